export { createBoardClient, type BoardClient, type BoardClientOptions } from './boardClient.js';
export { BoardApiError, type BoardErrorCode } from './boardApiError.js';
export { backoffDelay, openEventStream, type BackoffOptions, type EventSourceFactory, type EventSourceLike, type EventStream } from './eventStream.js';
export { createSharedEvents, type ChannelLike, type LocksLike, type SharedEvents } from './sharedEvents.js';
export * from './types.js';
