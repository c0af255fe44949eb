import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from './api-stack.js';

/** A private, throw-away Redis that keeps nothing on disk, so a restart comes back empty. */
export class PrivateRedis {
  private process: ChildProcess | null = null;
  private constructor(readonly port: number) {}

  static async start(): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort());
    await redis.up();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async up(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.process = child;
    let out = '';
    await new Promise<void>((resolve, reject) => {
      const check = (d: Buffer) => {
        out += d;
        if (out.includes('Ready to accept connections')) resolve();
      };
      child.stdout!.on('data', check);
      child.once('exit', (code) => reject(new Error(`redis-server exited (${code}):\n${out}`)));
    });
  }

  /** kill -9: whatever it held is gone. */
  async kill(): Promise<void> {
    const child = this.process;
    this.process = null;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
}
