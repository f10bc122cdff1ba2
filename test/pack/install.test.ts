/**
 * The package as users get it: `npm pack`'s tarball installed into a fresh project, once without
 * a prebuilt binary (the install compiles the addon from the shipped sources) and once with a
 * binary made by `npm run prebuild` in the packed copy (the install compiles nothing); each time
 * the package is required and its commands run from node_modules/.bin.
 */
import { spawnSync, SpawnSyncOptions } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '../..');
const NODE_PREFIX = path.resolve(path.dirname(process.execPath), '..');
// Machines without internet: node-gyp builds against this Node's own headers instead of downloading them.
const NODE_DIR = fs.existsSync(path.join(NODE_PREFIX, 'include', 'node', 'node_api.h')) ? { npm_config_nodedir: NODE_PREFIX } : {};
const ENV = { ...process.env, ...NODE_DIR, JOBS: 'max', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };

let dir: string;

function sh(command: string, args: string[], cwd: string, opts: SpawnSyncOptions = {}): string {
  const r = spawnSync(command, args, { cwd, env: ENV, encoding: 'utf8', timeout: 300_000, ...opts });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} (in ${cwd}) exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return `${r.stdout}${r.stderr}`;
}

/** `npm pack` in `packageDir` without lifecycle scripts (lib/ is built); returns the tarball's path. */
function pack(packageDir: string, destination: string): string {
  fs.mkdirSync(destination, { recursive: true });
  const out = sh('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', destination], packageDir);
  const [{ filename }] = JSON.parse(out.slice(out.indexOf('[')));
  return path.join(destination, filename);
}

/** A fresh project with the tarball installed as a user installs it; returns the project and npm's output. */
function install(tarball: string, name: string): { project: string; output: string } {
  const project = path.join(dir, name);
  fs.mkdirSync(project);
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true }));
  const output = sh('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], project);
  return { project, output };
}

/** Requires the installed package and runs its commands' --help through node_modules/.bin. */
function expectUsable(project: string): void {
  const info = JSON.parse(sh(process.execPath, ['-e', "process.stdout.write(JSON.stringify(require('posapl-native').nativeInfo()))"], project));
  expect(typeof info.isa).toBe('string');
  expect(info.threads).toBeGreaterThan(0);
  for (const command of ['posapl-train', 'posapl-eval', 'posapl-pos']) {
    const help = sh(path.join(project, 'node_modules', '.bin', command), ['--help'], project);
    expect(help).toMatch(new RegExp(`^Usage: ${command} `));
  }
}

let sourceTarball: string;
let prebuiltTarball: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'posapl-pack-'));
  // The packed package, without any prebuilt binary a developer may have in prebuilds/.
  const packed = path.join(dir, 'packed');
  fs.mkdirSync(packed);
  sh('tar', ['xzf', pack(ROOT, path.join(dir, 'first')), '-C', packed], dir);
  const pkg = path.join(packed, 'package');
  fs.rmSync(path.join(pkg, 'prebuilds', 'linux-x64'), { recursive: true, force: true });
  sourceTarball = pack(pkg, path.join(dir, 'source'));
  // The same with a binary from `npm run prebuild` (prebuildify, with the repository's dev tools).
  const prebuilt = path.join(dir, 'prebuilt');
  fs.cpSync(pkg, prebuilt, { recursive: true });
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(prebuilt, 'node_modules'));
  sh('npm', ['run', 'prebuild'], prebuilt);
  fs.rmSync(path.join(prebuilt, 'node_modules'));
  fs.rmSync(path.join(prebuilt, 'build'), { recursive: true, force: true });
  prebuiltTarball = pack(prebuilt, path.join(dir, 'prebuilt-tarball'));
}, 400_000);

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('the packed tarball', () => {
  it('ships the build inputs and the compiled commands, and no test data or binary', () => {
    const files = sh('tar', ['tzf', sourceTarball], dir).split('\n').filter(Boolean);
    for (const f of ['package/scripts/native-sources.js', 'package/binding.gyp', 'package/CMakeLists.txt', 'package/lib/cli/posapl-train.js', 'package/lib/index.d.ts']) {
      expect(files).toContain(f);
    }
    expect(files.filter((f) => f.endsWith('.node') || f.includes('/test/') || f.includes('/shared/'))).toEqual([]);
    expect(sh('tar', ['tzf', prebuiltTarball], dir)).toMatch(/package\/prebuilds\/linux-x64\/posapl-native\.node/);
  });

  it('installs without a prebuilt binary by compiling the addon, and works', () => {
    const { project } = install(sourceTarball, 'from-source');
    const installed = path.join(project, 'node_modules', 'posapl-native');
    expect(fs.existsSync(path.join(installed, 'build', 'Release', 'posapl.node'))).toBe(true);
    expectUsable(project);
  }, 400_000);

  it('installs with the prebuilt binary without compiling, and works', () => {
    const { project } = install(prebuiltTarball, 'with-prebuilt');
    const installed = path.join(project, 'node_modules', 'posapl-native');
    expect(fs.existsSync(path.join(installed, 'build'))).toBe(false);
    expectUsable(project);
  }, 120_000);
});
