// Preloaded into benchmark replicas (never into the app): SIGUSR2 runs a full GC, so memory is
// read without garbage that simply has not been collected yet.
process.on('SIGUSR2', () => globalThis.gc?.());
