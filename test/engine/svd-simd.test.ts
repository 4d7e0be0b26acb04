/**
 * SVD's 'simd' kernel (src/engine/kernels/svd-simd.ts, AssemblyScript `sgdF32x4`): f32x4 SIMD
 * over a deterministic DSGD block schedule. Checked here:
 * - the block grid puts every rating in the block of its user's and item's ranges, keeping the
 *   trainset's order inside a block;
 * - the kernel equals, bit for bit, an independent f32 loop in TypeScript (Math.fround after
 *   every operation, lanes and accumulators as the kernel's source documents them; the kernel
 *   fuses each update with the next dot product, the reference does not);
 * - 1, 2 and 4 threads give the same bits, on every run;
 * - on ml-100k u1, SVD with kernel 'simd' has an RMSE within ±0.002 of kernel 'exact';
 * - a thread count that does not divide the blocks is refused, naming it, before anything changes.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Dataset, Reader } from '../../src/engine/dataset';
import { Trainset } from '../../src/engine/trainset';
import { SVD } from '../../src/engine/algorithms';
import { rmse } from '../../src/engine/metrics';
import { svdSgd, type SvdSgdInput } from '../../src/engine/algorithms/svd-kernel';
import {
  blockGrid,
  closeKernelThreads,
  simdThreads,
  type BlockGrid,
} from '../../src/engine/kernels/svd-simd';
import { requireDataset } from './helpers';
import { randomTrainset, svdSgdInput } from '../helpers/svd-sgd-input';

const SEED = 20261206;

afterAll(closeKernelThreads);

const hex = (...as: Float64Array[]) =>
  as.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex')).join('|');

/**
 * The reference: the kernel's arithmetic in TypeScript, every operation rounded to f32. Rows are
 * padded to nF8 = ⌈nF/8⌉·8 lanes; the dot product keeps two four-lane accumulators (acc0 for
 * lanes f…f+3 with f ≡ 0 mod 8, acc1 for f ≡ 4 mod 8), adds them lane-wise, then sums
 * (l0 + l1) + (l2 + l3); the factor update is p·(1 − lr·reg) + q·(lr·err). Blocks in sub-epoch
 * order (b, (b+s) mod B).
 */
function referenceF32(a: SvdSgdInput, grid: BlockGrid): void {
  const r = Math.fround;
  const B = grid.blocks;
  const nF = a.nFactors;
  const nF8 = Math.ceil(nF / 8) * 8;
  const pu = new Float32Array(a.nUsers * nF8);
  const qi = new Float32Array(a.bi.length * nF8);
  for (let u = 0; u < a.nUsers; u++)
    for (let f = 0; f < nF; f++) pu[u * nF8 + f] = a.pu[u * nF + f];
  for (let i = 0; i < a.bi.length; i++)
    for (let f = 0; f < nF; f++) qi[i * nF8 + f] = a.qi[i * nF + f];
  const bu = Float32Array.from(a.bu);
  const bi = Float32Array.from(a.bi);
  const [mu, lrBu, lrBi, lrPu, lrQi, regBu, regBi, regPu, regQi] = [
    a.mu,
    a.lrBu,
    a.lrBi,
    a.lrPu,
    a.lrQi,
    a.regBu,
    a.regBi,
    a.regPu,
    a.regQi,
  ].map(r);
  const keepPu = r(1 - r(lrPu * regPu));
  const keepQi = r(1 - r(lrQi * regQi));
  for (let e = 0; e < a.nEpochs; e++) {
    for (let s = 0; s < B; s++) {
      for (let b = 0; b < B; b++) {
        const blk = b * B + ((b + s) % B);
        for (let k = grid.blockStart[blk]; k < grid.blockStart[blk + 1]; k++) {
          const u = grid.users[k];
          const i = grid.items[k];
          const po = u * nF8;
          const qo = i * nF8;
          const acc0 = [0, 0, 0, 0];
          const acc1 = [0, 0, 0, 0];
          for (let f = 0; f < nF8; f += 8) {
            for (let l = 0; l < 4; l++) {
              acc0[l] = r(acc0[l] + r(qi[qo + f + l] * pu[po + f + l]));
              acc1[l] = r(acc1[l] + r(qi[qo + f + 4 + l] * pu[po + f + 4 + l]));
            }
          }
          const acc = acc0.map((x, l) => r(x + acc1[l]));
          const dot = r(r(acc[0] + acc[1]) + r(acc[2] + acc[3]));
          const err = r(grid.ratings[k] - r(r(r(mu + bu[u]) + bi[i]) + dot));
          if (a.biased) {
            bu[u] = r(bu[u] + r(lrBu * r(err - r(regBu * bu[u]))));
            bi[i] = r(bi[i] + r(lrBi * r(err - r(regBi * bi[i]))));
          }
          const stepPu = r(lrPu * err);
          const stepQi = r(lrQi * err);
          for (let g = 0; g < nF8; g++) {
            const p = pu[po + g];
            const q = qi[qo + g];
            pu[po + g] = r(r(p * keepPu) + r(q * stepPu));
            qi[qo + g] = r(r(q * keepQi) + r(p * stepQi));
          }
        }
      }
    }
  }
  a.bu.set(bu);
  a.bi.set(bi);
  for (let u = 0; u < a.nUsers; u++)
    for (let f = 0; f < nF; f++) a.pu[u * nF + f] = pu[u * nF8 + f];
  for (let i = 0; i < a.bi.length; i++)
    for (let f = 0; f < nF; f++) a.qi[i * nF + f] = qi[i * nF8 + f];
}

describe('the DSGD block grid', () => {
  const ts = randomTrainset(SEED, 300, 200, 6000);
  console.log(`svd-simd: random trainsets drawn with seed ${SEED}`);

  it('puts each rating in the block of its user range and item range, in trainset order', () => {
    const a = svdSgdInput(ts, 4, true, 1);
    const B = 4;
    const grid = blockGrid(a, B);
    expect(grid.blockStart[B * B]).toBe(ts.nRatings);
    // the user ranges and item ranges of the blocks: contiguous, disjoint, covering all
    const uMax = new Int32Array(B).fill(-1);
    const uMin = new Int32Array(B).fill(1 << 30);
    const iMax = new Int32Array(B).fill(-1);
    const iMin = new Int32Array(B).fill(1 << 30);
    const seen: string[] = [];
    for (let blk = 0; blk < B * B; blk++) {
      const [ub, ib] = [Math.floor(blk / B), blk % B];
      let last = -1;
      for (let k = grid.blockStart[blk]; k < grid.blockStart[blk + 1]; k++) {
        const u = grid.users[k];
        const i = grid.items[k];
        uMin[ub] = Math.min(uMin[ub], u);
        uMax[ub] = Math.max(uMax[ub], u);
        iMin[ib] = Math.min(iMin[ib], i);
        iMax[ib] = Math.max(iMax[ib], i);
        // trainset order: position of (u, i) in u's row increases within a block
        const row = Array.from(ts.urItems.subarray(ts.urOffsets[u], ts.urOffsets[u + 1]));
        const pos = ts.urOffsets[u] + row.indexOf(i);
        expect(pos).toBeGreaterThan(last);
        last = pos;
        expect(grid.ratings[k]).toBe(ts.urRatings[pos]);
        seen.push(`${u},${i}`);
      }
    }
    for (let b = 0; b + 1 < B; b++) {
      expect(uMax[b]).toBeLessThan(uMin[b + 1]);
      expect(iMax[b]).toBeLessThan(iMin[b + 1]);
    }
    expect(new Set(seen).size).toBe(ts.nRatings);
    // balanced: each user block holds between 1/B of the ratings minus one user's row and plus it
    for (let ub = 0; ub < B; ub++) {
      const n = grid.blockStart[(ub + 1) * B] - grid.blockStart[ub * B];
      expect(Math.abs(n - ts.nRatings / B)).toBeLessThan(60);
    }
  });
});

describe('the DSGD block grid written into given arrays', () => {
  const ts = randomTrainset(SEED + 1, 120, 80, 2000);

  it('answers the same grid as in new arrays, in the arrays given', () => {
    const a = svdSgdInput(ts, 4, true, 1);
    const fresh = blockGrid(a, 4);
    const into = {
      users: new Int32Array(ts.nRatings),
      items: new Int32Array(ts.nRatings),
      ratings: new Float32Array(ts.nRatings),
    };
    const grid = blockGrid(a, 4, into);
    expect(grid.users).toBe(into.users);
    expect(Array.from(into.users)).toEqual(Array.from(fresh.users));
    expect(Array.from(into.items)).toEqual(Array.from(fresh.items));
    expect(Array.from(into.ratings)).toEqual(Array.from(fresh.ratings));
    expect(Array.from(grid.blockStart)).toEqual(Array.from(fresh.blockStart));
  });

  it('refuses arrays of another length, naming the lengths, and writes nothing', () => {
    const a = svdSgdInput(ts, 4, true, 1);
    const into = {
      users: new Int32Array(ts.nRatings - 1),
      items: new Int32Array(ts.nRatings),
      ratings: new Float32Array(ts.nRatings),
    };
    expect(() => blockGrid(a, 4, into)).toThrow(
      new RegExp(`blockGrid needs arrays of ${ts.nRatings} ratings, got ${ts.nRatings - 1}, `),
    );
    expect(into.items.every((x) => x === 0)).toBe(true);
  });
});

describe("SVD's simd kernel", () => {
  const ts = randomTrainset(SEED, 300, 200, 6000);

  it.each([
    [10, true],
    [12, false],
    [16, true],
    [8, false],
    [4, true],
    [1, true],
    [0, true],
  ] as const)(
    'answers the bits of the f32 TypeScript reference with nFactors %d, biased %s',
    (nF, biased) => {
      const a = svdSgdInput(ts, nF, biased, 7);
      const b = svdSgdInput(ts, nF, biased, 7);
      referenceF32(a, blockGrid(a, 4));
      svdSgd(b, 'simd', { threads: 1, blocks: 4 });
      expect(hex(b.pu, b.qi, b.bu, b.bi)).toBe(hex(a.pu, a.qi, a.bu, a.bi));
      // training changed something
      const c = svdSgdInput(ts, nF, biased, 7);
      expect(hex(b.pu, b.qi, b.bu, b.bi)).not.toBe(hex(c.pu, c.qi, c.bu, c.bi));
    },
  );

  it('answers the reference bits right after a fit that left other values in the kept memory', () => {
    // 16 factors fill every lane of 16-lane rows; 12 factors then pad lanes 12…15 with zeros
    svdSgd(svdSgdInput(ts, 16, true, 5), 'simd', { threads: 1, blocks: 4 });
    const a = svdSgdInput(ts, 12, true, 6);
    const b = svdSgdInput(ts, 12, true, 6);
    referenceF32(a, blockGrid(a, 4));
    svdSgd(b, 'simd', { threads: 2, blocks: 4 });
    expect(hex(b.pu, b.qi, b.bu, b.bi)).toBe(hex(a.pu, a.qi, a.bu, a.bi));
  });

  it('answers the same bits on 1, 2 and 4 threads and on every run', () => {
    const run = (threads: number) => {
      const a = svdSgdInput(ts, 10, true, 11);
      svdSgd(a, 'simd', { threads, blocks: 4 });
      return hex(a.pu, a.qi, a.bu, a.bi);
    };
    const one = run(1);
    expect(run(2)).toBe(one);
    expect(run(4)).toBe(one);
    expect(run(2)).toBe(one);
    expect(run(1)).toBe(one);
  });

  it('refuses a thread count that does not divide the blocks, naming it, and changes nothing', () => {
    const a = svdSgdInput(ts, 4, true, 3);
    const before = hex(a.pu, a.qi, a.bu, a.bi);
    expect(() => svdSgd(a, 'simd', { threads: 3, blocks: 4 })).toThrow(
      /threads must be a whole number ≥ 1 dividing the 4 blocks, got 3/,
    );
    expect(hex(a.pu, a.qi, a.bu, a.bi)).toBe(before);
    const algo = new SVD({ kernel: 'simd', threads: 3 });
    expect(() => algo.fit(ts)).toThrow(/threads must divide the 4 blocks \(1, 2 or 4\), got 3/);
    expect(() => algo.predict('u1', 'i1')).toThrow();
  });
});

describe('the threads SVD runs the simd kernel on', () => {
  // lanes per sub-epoch = nRatings / 4 × (nFactors padded to 8); a thread needs 2^18 = 262 144
  it.each([
    // u1.base: 20 000 × 104 = 2 080 000 lanes: 1 040 000 per thread on 2, 520 000 on 4
    [2, 80_000, 100, 2],
    [4, 80_000, 100, 4],
    // 10 000 × 104 = 1 040 000: 260 000 on 4 is too few, 520 000 on 2 pays
    [4, 40_000, 100, 2],
    // 5 000 × 104 = 520 000: 260 000 on 2 is too few
    [2, 20_000, 100, 1],
    // the random trainset of these tests: 1 500 × 16 = 24 000
    [4, 6_000, 10, 1],
    [1, 80_000, 100, 1],
  ])('answers %d requested, %d ratings, %d factors → %d threads', (req, n, nF, want) => {
    expect(simdThreads(req, n, nF)).toBe(want);
  });
});

describe('kernel threads in a program of their own', () => {
  it('let the process exit once the fit is done (a CLI or train worker must not hang)', async () => {
    // a real child process: fit with 2 kernel threads, print the RMSE on the trainset, return
    // from the script; the positive signal is the child's own exit (the test waits for it)
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-simd-exit-'));
    const script = path.join(dir, 'fit.ts');
    const src = path.resolve(__dirname, '../../src');
    fs.writeFileSync(
      script,
      [
        `import { svdSgd } from ${JSON.stringify(path.join(src, 'engine/algorithms/svd-kernel'))};`,
        `import { RandomState } from ${JSON.stringify(path.join(src, 'engine/random'))};`,
        `import { Trainset } from ${JSON.stringify(path.join(src, 'engine/trainset'))};`,
        `import { RawRatings } from ${JSON.stringify(path.join(src, 'engine/dataset/raw-ratings'))};`,
        'const u: string[] = []; const i: string[] = []; const r: number[] = [];',
        'for (let a = 0; a < 40; a++) for (let b = 0; b < 30; b++) if ((a * 7 + b * 3) % 4 === 0) {',
        '  u.push(`u${a}`); i.push(`i${b}`); r.push(1 + ((a + b) % 5)); }',
        'const ts = Trainset.build(new RawRatings(u, i, Float64Array.from(r)), [1, 5]);',
        // svdSgd runs the threads it is given (SVD.fit would take one thread for data this small)
        'const nF = 4; const g = new RandomState(0);',
        'svdSgd({ nUsers: ts.nUsers, nFactors: nF, nEpochs: 3, biased: true, urOffsets: ts.urOffsets,',
        '  urItems: ts.urItems, urRatings: ts.urRatings, bu: new Float64Array(ts.nUsers),',
        '  bi: new Float64Array(ts.nItems), pu: g.fillNormal(new Float64Array(ts.nUsers * nF)),',
        '  qi: g.fillNormal(new Float64Array(ts.nItems * nF)), mu: ts.globalMean, lrBu: 0.005,',
        '  lrBi: 0.005, lrPu: 0.005, lrQi: 0.005, regBu: 0.02, regBi: 0.02, regPu: 0.02, regQi: 0.02,',
        "}, 'simd', { threads: 2, blocks: 4 });",
        "console.log('fitted');",
      ].join('\n'),
    );
    try {
      const child = spawn(
        process.execPath,
        ['-r', path.resolve(__dirname, '../../scripts/ts-register.js'), script],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let out = '';
      let err = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
      // a guard only (never a wait): a child that hangs is killed before jest's own timeout
      const guard = setTimeout(() => child.kill('SIGKILL'), 50_000);
      const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
      clearTimeout(guard);
      expect({ code, out, err }).toEqual({ code: 0, out: 'fitted\n', err: '' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('ml-100k u1: the simd kernel keeps the RMSE of the exact kernel', () => {
  let ts: Trainset;
  let testset: ReturnType<NonNullable<Dataset['folds']>[number]['test']['toTestset']>;
  beforeAll(() => {
    const data = Dataset.loadFromFolds(
      [[requireDataset('ml-100k', 'u1.base'), requireDataset('ml-100k', 'u1.test')]],
      Reader.builtin('ml-100k'),
    );
    const fold = data.folds![0];
    ts = Trainset.build(fold.train, data.ratingScale);
    testset = fold.test.toTestset();
  });

  it.each([0, 1])(
    'answers an RMSE within ±0.002 of the exact kernel (SVD defaults, randomState %d)',
    (seed) => {
      const exact = rmse(new SVD({ randomState: seed }).fit(ts).test(testset));
      const simd = rmse(
        new SVD({ randomState: seed, kernel: 'simd', threads: 2 }).fit(ts).test(testset),
      );
      console.log(
        `u1, randomState ${seed}: RMSE exact ${exact.toFixed(5)}, simd ${simd.toFixed(5)}`,
      );
      // Surprise's SVD on u1 is about 0.95: both must be real fits, not a constant
      expect(exact).toBeGreaterThan(0.9);
      expect(exact).toBeLessThan(0.97);
      expect(Math.abs(simd - exact)).toBeLessThanOrEqual(0.002);
    },
  );
});
