#!/usr/bin/env -S node --max-semi-space-size=8
// Node ≥ 22.18 runs the TypeScript sources directly (type stripping); no build step.
// --max-semi-space-size=8 (MiB): V8 otherwise grows the young generation to 128 MiB on a large
// machine and keeps it; with it a worker idles at ~190 MiB instead of ~330 (docs/benchmarks.md).
await import('../src/cli.ts')
