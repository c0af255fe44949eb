import { h } from '../lib/dom.js';
import { type DigitInstance, MNIST_SIZE, preprocessDigit } from './preprocess.js';

const PAD = 280;
/** About 2 pixels of the 28×28 image, like an MNIST pen stroke. */
const PEN = 20;

/**
 * A square to draw a digit on with a mouse, a pen or a finger. After every
 * stroke segment it hands the MNIST-style instance to `onChange`, and shows
 * that instance at 28×28 ("what the model sees").
 */
export class DrawPad {
  readonly el: HTMLElement;
  readonly canvas: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D;
  private readonly preview: HTMLCanvasElement;
  private last: { x: number; y: number } | null = null;
  private frame = 0;

  constructor(private readonly onChange: (instance: DigitInstance) => void) {
    this.canvas = h('canvas', { width: PAD, height: PAD, class: 'draw-pad', role: 'img', 'aria-label': 'Drawing pad: draw a digit with the mouse or a finger' });
    this.preview = h('canvas', {
      width: MNIST_SIZE,
      height: MNIST_SIZE,
      class: 'digit-preview',
      role: 'img',
      'aria-label': 'The drawing as the model sees it: 28 by 28 pixels, centred by mass',
    });
    const ctx = this.canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) throw new Error('this browser cannot draw on a canvas');
    this.ctx = ctx;
    this.ctx.lineCap = 'round';
    this.ctx.lineJoin = 'round';
    this.ctx.strokeStyle = '#111827';
    this.ctx.fillStyle = '#111827';
    this.ctx.lineWidth = PEN;
    this.canvas.addEventListener('pointerdown', (e) => this.down(e));
    this.canvas.addEventListener('pointermove', (e) => this.move(e));
    for (const type of ['pointerup', 'pointercancel', 'lostpointercapture'] as const) this.canvas.addEventListener(type, () => (this.last = null));
    const clear = h('button', { type: 'button', class: 'secondary' }, 'Clear');
    clear.addEventListener('click', () => this.clear());
    this.el = h(
      'div',
      { class: 'draw' },
      h('div', { class: 'draw-main' }, this.canvas, h('div', { class: 'actions' }, clear, h('span', { class: 'sub' }, 'Draw one digit, large, in the middle.'))),
      h('figure', { class: 'draw-preview' }, this.preview, h('figcaption', { class: 'sub' }, 'What the model sees (28×28, centred by mass)')),
    );
    this.drawPreview(new Array(MNIST_SIZE * MNIST_SIZE).fill(0));
  }

  private point(e: PointerEvent): { x: number; y: number } {
    const r = this.canvas.getBoundingClientRect();
    return { x: ((e.clientX - r.left) * PAD) / r.width, y: ((e.clientY - r.top) * PAD) / r.height };
  }

  private down(e: PointerEvent): void {
    e.preventDefault();
    this.canvas.setPointerCapture(e.pointerId);
    this.last = this.point(e);
    this.ctx.beginPath();
    this.ctx.arc(this.last.x, this.last.y, PEN / 2, 0, Math.PI * 2);
    this.ctx.fill();
    this.changed();
  }

  private move(e: PointerEvent): void {
    if (!this.last) return;
    const p = this.point(e);
    this.ctx.beginPath();
    this.ctx.moveTo(this.last.x, this.last.y);
    this.ctx.lineTo(p.x, p.y);
    this.ctx.stroke();
    this.last = p;
    this.changed();
  }

  clear(): void {
    this.ctx.clearRect(0, 0, PAD, PAD);
    this.changed();
  }

  /** Once per animation frame at most: reading the canvas back is the costly part. */
  private changed(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      const data = this.ctx.getImageData(0, 0, PAD, PAD).data;
      const ink = new Float32Array(PAD * PAD);
      for (let i = 0; i < ink.length; i++) ink[i] = data[i * 4 + 3] / 255;
      const instance = preprocessDigit(ink, PAD, PAD);
      this.drawPreview(instance.pixels);
      this.onChange(instance);
    });
  }

  private drawPreview(pixels: number[]): void {
    const ctx = this.preview.getContext('2d');
    if (!ctx) return;
    const image = ctx.createImageData(MNIST_SIZE, MNIST_SIZE);
    pixels.forEach((v, i) => {
      const g = Math.round(v * 255);
      image.data.set([g, g, g, 255], i * 4);
    });
    ctx.putImageData(image, 0, 0);
  }
}
