import type { IncomingMessage } from 'node:http';
import { HttpError } from '../errors.js';

/**
 * Reads a small request body (no content encoding), refusing anything larger than `limitBytes`
 * before buffering it: 413 `payload_too_large`, 415 for a compressed body.
 */
export async function readBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  if (req.headers['content-encoding'] && req.headers['content-encoding'] !== 'identity') {
    throw new HttpError(415, 'unsupported_media_type', 'Compressed bodies are not accepted here');
  }
  const tooLarge = () => new HttpError(413, 'payload_too_large', `The body is larger than ${limitBytes} bytes`);
  if (Number(req.headers['content-length'] ?? 0) > limitBytes) throw tooLarge();

  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) {
        req.removeAllListeners('data');
        req.resume();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => resolve(Buffer.concat(chunks, size)));
    req.once('error', (err) => reject(new HttpError(400, 'invalid_request', 'The request body could not be read', { cause: err })));
  });
}
