import { createServer } from 'node:net';

/** Every port this process handed out: the OS may offer a just-released port again, but one platform never uses it twice. */
const handedOut = new Set<number>();

/** An ephemeral loopback port the OS just handed out; bound and released, so a child can take it next. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await bindAndRelease();
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

function bindAndRelease(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
