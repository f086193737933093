// The loss curve of a training run as a PNG: train loss per optimizer step as a line, the held-out loss as dots,
// a dashed rule where a phase (knowledge, then skills) begins, axes with tick labels in a small built-in pixel font.
// Reads the loss.csv the trainer writes (step,phase,epoch,batch,loss,lr,grad_norm,tokens,eval_loss).
import { encodePng, RgbImage } from './png';

type Rgb = readonly [number, number, number];

export interface LossPoint {
  step: number;
  loss: number;
}

export interface LossCurve {
  train: LossPoint[];
  eval: LossPoint[];
  /** Steps at which a new phase starts (not the first), with its name. */
  phases: { step: number; name: string }[];
}

/** The points of a loss.csv; rows without a number where one belongs are left out. */
export function parseLossCsv(text: string): LossCurve {
  const lines = text.split(/\r?\n/).filter((l) => l.trim());
  const header = (lines.shift() ?? '').split(',');
  const col = (name: string) => header.indexOf(name);
  const [iStep, iLoss, iEval, iPhase] = [col('step'), col('loss'), col('eval_loss'), col('phase')];
  const curve: LossCurve = { train: [], eval: [], phases: [] };
  if (iStep < 0) return curve;
  let phase: string | undefined;
  for (const line of lines) {
    const cells = line.split(',');
    const step = Number(cells[iStep]);
    if (!Number.isFinite(step)) continue;
    const num = (i: number) => (i >= 0 && cells[i] !== undefined && cells[i] !== '' ? Number(cells[i]) : NaN);
    const loss = num(iLoss);
    const evalLoss = num(iEval);
    if (Number.isFinite(loss)) {
      const name = iPhase >= 0 ? cells[iPhase] : '';
      if (name && phase !== undefined && name !== phase) curve.phases.push({ step, name });
      if (name) phase = name;
      curve.train.push({ step, loss });
    }
    if (Number.isFinite(evalLoss)) curve.eval.push({ step, loss: evalLoss });
  }
  return curve;
}

// 3x5 glyphs, drawn at 2x: digits, a few capitals and signs, enough for tick labels and the legend.
const glyphs: Record<string, string> = {
  '0': '### #.# #.# #.# ###',
  '1': '.#. ##. .#. .#. ###',
  '2': '### ..# ### #.. ###',
  '3': '### ..# .## ..# ###',
  '4': '#.# #.# ### ..# ..#',
  '5': '### #.. ### ..# ###',
  '6': '### #.. ### #.# ###',
  '7': '### ..# .#. .#. .#.',
  '8': '### #.# ### #.# ###',
  '9': '### #.# ### ..# ###',
  '.': '... ... ... ... .#.',
  '-': '... ... ### ... ...',
  ' ': '... ... ... ... ...',
  A: '.#. #.# ### #.# #.#',
  D: '##. #.# #.# #.# ##.',
  E: '### #.. ##. #.. ###',
  H: '#.# #.# ### #.# #.#',
  I: '### .#. .#. .#. ###',
  L: '#.. #.. #.. #.. ###',
  N: '##. #.# #.# #.# #.#',
  O: '### #.# #.# #.# ###',
  P: '### #.# ### #.. #..',
  R: '##. #.# ##. #.# #.#',
  S: '### #.. ### ..# ###',
  T: '### .#. .#. .#. .#.',
  U: '#.# #.# #.# #.# ###',
};
const scale = 2;
const glyphWidth = 4 * scale;

function textWidth(text: string): number {
  return text.length * glyphWidth - scale;
}

function drawText(img: RgbImage, text: string, x: number, y: number, color: Rgb): void {
  for (const [i, ch] of [...text.toUpperCase()].entries()) {
    const rows = (glyphs[ch] ?? glyphs[' ']).split(' ');
    rows.forEach((row, r) => {
      for (let c = 0; c < 3; c++) {
        if (row[c] !== '#') continue;
        for (let dy = 0; dy < scale; dy++) for (let dx = 0; dx < scale; dx++) img.set(x + i * glyphWidth + c * scale + dx, y + r * scale + dy, color);
      }
    });
  }
}

function line(img: RgbImage, x0: number, y0: number, x1: number, y1: number, color: Rgb, thick = 1, dash = 0): void {
  x0 = Math.round(x0);
  y0 = Math.round(y0);
  x1 = Math.round(x1);
  y1 = Math.round(y1);
  const dx = Math.abs(x1 - x0);
  const dy = -Math.abs(y1 - y0);
  const sx = x0 < x1 ? 1 : -1;
  const sy = y0 < y1 ? 1 : -1;
  let err = dx + dy;
  for (let n = 0; ; n++) {
    if (!dash || Math.floor(n / dash) % 2 === 0) for (let t = 0; t < thick; t++) for (let u = 0; u < thick; u++) img.set(x0 + t, y0 + u, color);
    if (x0 === x1 && y0 === y1) break;
    const e2 = 2 * err;
    if (e2 >= dy) {
      err += dy;
      x0 += sx;
    }
    if (e2 <= dx) {
      err += dx;
      y0 += sy;
    }
  }
}

function dot(img: RgbImage, x: number, y: number, color: Rgb, r = 2): void {
  for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++) img.set(x + dx, y + dy, color);
}

/** A tick label short enough for the margin: 5.38, 0.0123, 12.4. */
export function tickLabel(v: number, span: number): string {
  const decimals = Math.max(0, Math.min(4, 2 - Math.floor(Math.log10(Math.max(span, 1e-9)))));
  return v.toFixed(decimals);
}

export const plotColors = {
  background: [255, 255, 255] as Rgb,
  axis: [90, 90, 90] as Rgb,
  grid: [225, 225, 225] as Rgb,
  text: [40, 40, 40] as Rgb,
  train: [31, 119, 180] as Rgb,
  eval: [255, 127, 14] as Rgb,
  phase: [150, 150, 150] as Rgb,
};

export interface PlotLayout {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

export const defaultLayout: PlotLayout = { width: 640, height: 360, left: 64, right: 16, top: 30, bottom: 40 };

/** Where data coordinates land on the image. */
export interface PlotScale {
  x(step: number): number;
  y(loss: number): number;
  steps: [number, number];
  losses: [number, number];
}

export function plotScale(curve: LossCurve, layout: PlotLayout = defaultLayout): PlotScale {
  const points = [...curve.train, ...curve.eval];
  let [s0, s1] = points.length ? [Math.min(...points.map((p) => p.step)), Math.max(...points.map((p) => p.step))] : [0, 1];
  let [l0, l1] = points.length ? [Math.min(...points.map((p) => p.loss)), Math.max(...points.map((p) => p.loss))] : [0, 1];
  if (s1 === s0) [s0, s1] = [s0 - 1, s1 + 1];
  if (l1 === l0) [l0, l1] = [l0 - 0.5, l1 + 0.5];
  const pad = (l1 - l0) * 0.05;
  [l0, l1] = [l0 - pad, l1 + pad];
  const w = layout.width - layout.left - layout.right;
  const h = layout.height - layout.top - layout.bottom;
  return {
    x: (step) => layout.left + ((step - s0) / (s1 - s0)) * w,
    y: (loss) => layout.top + (1 - (loss - l0) / (l1 - l0)) * h,
    steps: [s0, s1],
    losses: [l0, l1],
  };
}

/** Draws the curve; returns the raster (tests read pixels back) and its PNG bytes. */
export function plotLoss(curve: LossCurve, layout: PlotLayout = defaultLayout): { image: RgbImage; png: Buffer } {
  const c = plotColors;
  const img = new RgbImage(layout.width, layout.height, c.background);
  const sc = plotScale(curve, layout);
  const [x0, x1] = [layout.left, layout.width - layout.right];
  const [y0, y1] = [layout.top, layout.height - layout.bottom];

  // Grid and tick labels: five levels of loss, up to six steps.
  const [l0, l1] = sc.losses;
  for (let i = 0; i <= 4; i++) {
    const v = l0 + ((l1 - l0) * i) / 4;
    const y = sc.y(v);
    line(img, x0, y, x1, y, c.grid);
    const label = tickLabel(v, l1 - l0);
    drawText(img, label, x0 - 6 - textWidth(label), Math.round(y) - 5, c.text);
  }
  const [s0, s1] = sc.steps;
  const stepTicks = [...new Set(Array.from({ length: 6 }, (_, i) => Math.round(s0 + ((s1 - s0) * i) / 5)))].filter((s) => s >= s0 && s <= s1);
  for (const s of stepTicks) {
    const x = sc.x(s);
    line(img, x, y0, x, y1, c.grid);
    const label = String(s);
    drawText(img, label, Math.round(x - textWidth(label) / 2), y1 + 6, c.text);
  }
  drawText(img, 'STEP', Math.round((x0 + x1) / 2 - textWidth('STEP') / 2), y1 + 22, c.text);

  for (const p of curve.phases) line(img, sc.x(p.step), y0, sc.x(p.step), y1, c.phase, 1, 4);
  line(img, x0, y0, x0, y1, c.axis);
  line(img, x0, y1, x1, y1, c.axis);

  const train = curve.train;
  if (train.length === 1) dot(img, sc.x(train[0].step), sc.y(train[0].loss), c.train);
  for (let i = 1; i < train.length; i++) line(img, sc.x(train[i - 1].step), sc.y(train[i - 1].loss), sc.x(train[i].step), sc.y(train[i].loss), c.train, 2);
  for (const p of curve.eval) dot(img, sc.x(p.step), sc.y(p.loss), c.eval);
  if (train.length === 0 && curve.eval.length === 0) drawText(img, 'NO STEPS', Math.round((x0 + x1) / 2 - textWidth('NO STEPS') / 2), Math.round((y0 + y1) / 2), c.text);

  // Legend above the plot.
  line(img, x0, 12, x0 + 20, 12, c.train, 2);
  drawText(img, 'TRAIN LOSS', x0 + 26, 8, c.text);
  const ex = x0 + 26 + textWidth('TRAIN LOSS') + 24;
  dot(img, ex + 4, 12, c.eval);
  drawText(img, 'HELD-OUT LOSS', ex + 14, 8, c.text);
  return { image: img, png: encodePng(img) };
}
