// Baseline for the benchmarks: the cheapest possible Node HTTP server on the same machine, at the
// same time. Reporting our throughput as a ratio of this keeps numbers comparable on a noisy host.
import { createServer } from 'node:http';
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => res.end());
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
