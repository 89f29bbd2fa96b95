// Helpers shared by the SDK tests: start the mock when MOCK_URL is not
// given, and talk to its control endpoints.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import readline from 'node:readline';

const here = path.dirname(fileURLToPath(import.meta.url));

// Returns {url, stop()}: the mock at $MOCK_URL, or a fresh one on a free
// loopback port (stopped by stop()).
export async function useMock() {
  if (process.env.MOCK_URL) {
    return { url: process.env.MOCK_URL.replace(/\/$/, ''), stop: async () => {} };
  }
  const child = spawn(process.execPath, [path.join(here, '..', 'mock', 'server.js'), '--port', '0', '--quiet',
    '--parent-pid', String(process.pid)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const info = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('mock did not start within 10 s')), 10000);
    child.once('exit', (code) => reject(new Error(`mock exited with ${code}`)));
    const rl = readline.createInterface({ input: child.stdout });
    rl.on('line', (line) => {
      const m = /^MOCK_READY (.*)$/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(JSON.parse(m[1]));
      }
    });
  });
  return {
    url: `http://127.0.0.1:${info.port}`,
    stop: async () => {
      if (child.exitCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await gone;
    },
  };
}

export async function control(mockUrl, method, p) {
  const r = await fetch(mockUrl + p, { method });
  if (!r.ok) throw new Error(`mock control ${method} ${p}: ${r.status}`);
  return r.json();
}

export const lastRequest = async (mockUrl) => (await control(mockUrl, 'GET', '/__requests')).at(-1);
