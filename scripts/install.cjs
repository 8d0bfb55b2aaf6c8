#!/usr/bin/env node
// npm "install" script: node-gyp-build's behaviour (use a build or prebuild that loads, else
// `node-gyp rebuild`), plus one thing it lacks: when Node's own headers sit next to the running
// node (official tarballs and distro packages ship include/node), point node-gyp at them so a
// source build needs no download. That keeps offline installs working.
'use strict';
const { spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const forceBuild = /^(true|1)$/.test(process.env.npm_config_build_from_source || '') || process.argv.includes('--build-from-source');

function loads() {
  // Load in a child so a binary that crashes (SIGILL, wrong libc) cannot take the install down.
  const probe = `require(require('node-gyp-build').path(${JSON.stringify(root)}))`;
  const result = spawnSync(process.execPath, ['-e', probe], { cwd: root, stdio: 'ignore' });
  return result.status === 0;
}

if (!forceBuild && loads()) process.exit(0);

const env = { ...process.env };
if (!env.npm_config_nodedir) {
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  if (existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) env.npm_config_nodedir = prefix;
}
let gyp = env.npm_config_node_gyp;
if (!gyp) {
  try {
    gyp = require.resolve('node-gyp/bin/node-gyp.js');
  } catch {
    gyp = '';
  }
}
const args = gyp ? [gyp, 'rebuild'] : [];
const result = gyp
  ? spawnSync(process.execPath, args, { cwd: root, env, stdio: 'inherit' })
  : spawnSync(process.platform === 'win32' ? 'node-gyp.cmd' : 'node-gyp', ['rebuild'], { cwd: root, env, stdio: 'inherit', shell: process.platform === 'win32' });
if (result.status !== 0) {
  process.stderr.write(
    '\ngguf-forge: building the native addon failed. GGUF metadata, Modelfiles and the store still work;\n' +
      'kernels need the addon. Install python3, make and a C++17 compiler, then run: npm rebuild gguf-forge --build-from-source\n',
  );
  process.exit(result.status ?? 1);
}
