/** `tidings stack up|down|status` */
import type { Config } from '../config.ts';
import { stackUp, stackDown, stackStatus } from '../stack/stack.ts';

export async function stackCommand(config: Config, args: string[]): Promise<number> {
  const [sub] = args;
  switch (sub) {
    case 'up': {
      const started = Date.now();
      const report = await stackUp(config, (line) => console.log(`  ${line}`));
      for (const s of report.services) {
        console.log(`${s.name.padEnd(16)} ${s.state.padEnd(10)} ${s.state === 'started' ? `${s.ms} ms`.padEnd(9) : ''.padEnd(9)} ${s.endpoint}`);
      }
      console.log(`stack up in ${Date.now() - started} ms`);
      return 0;
    }
    case 'down': {
      const stopped = await stackDown(config);
      console.log(stopped.length ? `stopped: ${stopped.join(', ')}` : 'nothing was running');
      return 0;
    }
    case 'status': {
      const rows = await stackStatus(config);
      for (const r of rows) {
        const state = r.ready === 'configured' ? 'configured' : r.ready ? 'ready' : 'stopped';
        console.log(`${r.name.padEnd(16)} ${state.padEnd(10)} ${r.endpoint}${r.ready === 'configured' ? '' : `  (log: ${r.log})`}`);
      }
      return rows.every((r) => r.ready !== false) ? 0 : 1;
    }
    default:
      console.error('usage: tidings stack up|down|status');
      return 2;
  }
}
