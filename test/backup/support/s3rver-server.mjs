// Runs s3rver in its own process (started by s3rver.ts with NODE_OPTIONS=--openssl-legacy-provider,
// which its truncated listings need). Prints {"port": N} once listening; exits when stdin closes.
import S3rver from 's3rver';

const directory = process.argv[2];
const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: 'volumebackups' }] });
const { port } = await server.run();
process.stdout.write(`${JSON.stringify({ port })}\n`);
process.stdin.resume();
process.stdin.on('end', async () => {
  await server.close();
  process.exit(0);
});
