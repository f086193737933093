// Seeded pseudo-random numbers for fixture weights: xoshiro128** (32-bit state words, exact in JS integer math)
// seeded through splitmix32, normal values by Marsaglia and Tsang's ziggurat (tens of millions of values go into a
// small fixture, and a logarithm per value is most of the cost on a slow core; the ziggurat takes one in ~100).
// Each tensor gets its own stream from (seed, tensor name), so a tensor's values do not depend on which other
// tensors a model has or the order they are written in.

const layers = 128;
const tailStart = 3.442619855899; // where the base strip's tail begins, for 128 layers
const layerArea = 9.91256303526217e-3;

// kn: acceptance thresholds on |hz|; wn: scale from hz to x; fn: exp(-x²/2) at each layer's edge.
const kn = new Float64Array(layers);
const wn = new Float64Array(layers);
const fn = new Float64Array(layers);
{
  const m = 2147483648;
  let dn = tailStart;
  let tn = dn;
  const q = layerArea / Math.exp(-0.5 * dn * dn);
  kn[0] = (dn / q) * m;
  kn[1] = 0;
  wn[0] = q / m;
  wn[layers - 1] = dn / m;
  fn[0] = 1;
  fn[layers - 1] = Math.exp(-0.5 * dn * dn);
  for (let i = layers - 2; i >= 1; i--) {
    dn = Math.sqrt(-2 * Math.log(layerArea / dn + Math.exp(-0.5 * dn * dn)));
    kn[i + 1] = (dn / tn) * m;
    tn = dn;
    fn[i] = Math.exp(-0.5 * dn * dn);
    wn[i] = dn / m;
  }
}

export class Xoshiro128 {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number, stream = 0) {
    let s = (Math.imul(seed | 0, 0x9e3779b1) ^ stream) >>> 0;
    const next = () => {
      // splitmix32: spreads one word of seed over the four state words.
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) | 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** A uniform signed 32-bit integer (xoshiro128**). */
  nextI32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9);
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** Uniform in (0, 1): never 0 or 1, so its logarithm is finite. */
  nextOpenUnit(): number {
    return ((this.nextI32() >>> 0) + 0.5) / 4294967296;
  }

  /** A standard normal value. */
  nextNormal(): number {
    const hz = this.nextI32();
    const iz = hz & (layers - 1);
    if (Math.abs(hz) < kn[iz]) return hz * wn[iz];
    return this.slowNormal(hz, iz);
  }

  /** Fills `out` with mean + std * normal values. */
  fillNormal(out: Float32Array, mean: number, std: number): Float32Array {
    // The common case of nextNormal, inlined with the state in locals: 32-bit values in object fields are boxed, and
    // this loop runs tens of millions of times for a small fixture.
    let a = this.a;
    let b = this.b;
    let c = this.c;
    let d = this.d;
    for (let i = 0; i < out.length; i++) {
      const result = Math.imul(rotl(Math.imul(b, 5), 7), 9);
      const t = b << 9;
      c ^= a;
      d ^= b;
      b ^= c;
      a ^= d;
      c ^= t;
      d = rotl(d, 11);
      const iz = result & (layers - 1);
      if (Math.abs(result) < kn[iz]) {
        out[i] = mean + std * result * wn[iz];
      } else {
        this.a = a;
        this.b = b;
        this.c = c;
        this.d = d;
        out[i] = mean + std * this.slowNormal(result, iz);
        a = this.a;
        b = this.b;
        c = this.c;
        d = this.d;
      }
    }
    this.a = a;
    this.b = b;
    this.c = c;
    this.d = d;
    return out;
  }

  /** The ziggurat's rare paths: the wedge between a layer and the curve, and the tail beyond the base layer. */
  private slowNormal(hz: number, iz: number): number {
    for (;;) {
      const x = hz * wn[iz];
      if (iz === 0) {
        let tx: number;
        let ty: number;
        do {
          tx = -Math.log(this.nextOpenUnit()) / tailStart;
          ty = -Math.log(this.nextOpenUnit());
        } while (ty + ty < tx * tx);
        return hz > 0 ? tailStart + tx : -tailStart - tx;
      }
      if (fn[iz] + this.nextOpenUnit() * (fn[iz - 1] - fn[iz]) < Math.exp(-0.5 * x * x)) return x;
      hz = this.nextI32();
      iz = hz & (layers - 1);
      if (Math.abs(hz) < kn[iz]) return hz * wn[iz];
    }
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** FNV-1a over a string's UTF-16 code units: a stream number for a name. */
export function streamOf(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
