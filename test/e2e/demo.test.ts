/**
 * `posapl-train` with no data: the built-in demo as a real process, shortened to one epoch; then
 * the posapl-eval command it prints, run as printed, on the files it left beside its checkpoint.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const BIN = path.resolve(__dirname, '../../lib/cli/posapl-train.js');
const EVAL_BIN = path.resolve(__dirname, '../../lib/cli/posapl-eval.js');

describe('posapl-train demo', () => {
  it('generates its data, trains one epoch, reports metrics before and after, and leaves a checkpoint posapl-eval can use', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'posapl-demo-'));
    try {
      const r = spawnSync(process.execPath, [BIN, '--epochs', '1', '--out', 'demo', '--json'], {
        cwd: dir, encoding: 'utf8', timeout: 240_000,
      });
      expect(r.stderr).not.toMatch(/Error/);
      expect(r.status).toBe(0);
      const lines = r.stdout.trim().split('\n');
      const result = JSON.parse(lines[lines.length - 1]);
      expect(result.before.r_mean).toBeGreaterThanOrEqual(0);
      expect(result.final.r_mean).toBeGreaterThan(result.before.r_mean);
      for (const f of ['best.safetensors', 'last.safetensors', 'report.html', 'log.jsonl', 'run.json', 'config.json', 'backbone.safetensors', 'data/train.json', 'data/test.json']) {
        expect(fs.existsSync(path.join(dir, 'demo', f))).toBe(true);
      }
      // Without --json the run tells how to reproduce the paper; with it stdout is the JSON line alone.
      expect(lines).toHaveLength(1);
      // The demo indexes its images: posapl-search answers from the index alone.
      const search = spawnSync(process.execPath, [path.resolve(__dirname, '../../lib/cli/posapl-search.js'), path.join('demo', 'index'), 'a river beside a road', '--json'], {
        cwd: dir, encoding: 'utf8', timeout: 60_000,
      });
      expect(search.status).toBe(0);
      const found = JSON.parse(search.stdout);
      expect(found.results).toHaveLength(10);
      expect(found.results[0].path).toMatch(/^demo\/data\/images\//);

      // The printed command, run as a user would from the same folder, gives the best epoch's metrics.
      expect(result.eval_command).toBe(
        'npx posapl-eval --config demo/config.json --weights demo/backbone.safetensors --tokenizer byte-level ' +
          '--checkpoint demo/best.safetensors --test demo/data/test.json --images demo/data/images',
      );
      const [, , ...args] = (result.eval_command as string).split(' ');
      const evaluated = spawnSync(process.execPath, [EVAL_BIN, ...args, '--json'], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
      expect(evaluated.stderr).toBe('');
      expect(evaluated.status).toBe(0);
      expect(JSON.parse(evaluated.stdout.trim())).toEqual(result.best);

      // A second demo into the same folder leaves the first one's run alone.
      const again = spawnSync(process.execPath, [BIN, '--epochs', '1', '--out', 'demo'], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
      expect(again.status).toBe(2);
      expect(again.stderr).toMatch(/--out demo already holds files .*pass --overwrite/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
