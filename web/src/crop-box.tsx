import { useId, useRef, useState, type KeyboardEvent, type PointerEvent } from 'react';
import type { RegionInput } from '../../client/index.js';
import { percent } from './format.js';

export type Region = RegionInput;

const MIN = 0.05;
const STEP = 0.02;
const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
const round = (v: number) => Math.round(v * 1000) / 1000;

function normalise(r: Region): Region {
  const width = clamp(r.width, MIN, 1);
  const height = clamp(r.height, MIN, 1);
  return { x: round(clamp(r.x, 0, 1 - width)), y: round(clamp(r.y, 0, 1 - height)), width: round(width), height: round(height) };
}

export const isWhole = (r: Region | null) => !r || (r.x <= 0.001 && r.y <= 0.001 && r.width >= 0.999 && r.height >= 0.999);

export function describeRegion(r: Region | null): string {
  if (isWhole(r)) return 'the whole photo';
  return `${percent(r!.width)} × ${percent(r!.height)} of the photo, from ${percent(r!.x)} left and ${percent(r!.y)} top`;
}

interface Drag {
  mode: 'draw' | 'move' | 'resize';
  pointerId: number;
  x0: number;
  y0: number;
  start: Region;
}

interface CropBoxProps {
  src: string;
  alt: string;
  region: Region | null;
  onChange(region: Region | null): void;
  onError?(): void;
}

/**
 * The query photo with a crop box: drag on the photo to draw the area to search, drag the box
 * to move it, its corner to resize it; with the keyboard, arrow keys move it and Shift+arrows
 * resize it. The area becomes similarProducts' `region` (fractions of width and height).
 */
export function CropBox({ src, alt, region, onChange, onError }: CropBoxProps) {
  const frame = useRef<HTMLDivElement>(null);
  const drag = useRef<Drag | null>(null);
  const [dragging, setDragging] = useState(false);
  const id = useId();
  const r = region ?? { x: 0, y: 0, width: 1, height: 1 };
  const whole = isWhole(region);

  const point = (event: PointerEvent) => {
    const box = frame.current!.getBoundingClientRect();
    return { x: clamp((event.clientX - box.left) / box.width, 0, 1), y: clamp((event.clientY - box.top) / box.height, 0, 1) };
  };

  const onPointerDown = (event: PointerEvent<HTMLDivElement>) => {
    if (event.button !== 0) return;
    const target = event.target as HTMLElement;
    const mode = target.dataset.handle ? 'resize' : target.dataset.box && !whole ? 'move' : 'draw';
    const p = point(event);
    drag.current = { mode, pointerId: event.pointerId, x0: p.x, y0: p.y, start: r };
    frame.current!.setPointerCapture(event.pointerId);
    setDragging(true);
    event.preventDefault();
  };

  const onPointerMove = (event: PointerEvent<HTMLDivElement>) => {
    const d = drag.current;
    if (!d || d.pointerId !== event.pointerId) return;
    const p = point(event);
    const dx = p.x - d.x0;
    const dy = p.y - d.y0;
    if (d.mode === 'draw') {
      if (Math.abs(dx) < 0.02 && Math.abs(dy) < 0.02) return;
      onChange(normalise({ x: Math.min(p.x, d.x0), y: Math.min(p.y, d.y0), width: Math.abs(dx), height: Math.abs(dy) }));
    } else if (d.mode === 'move') {
      onChange(normalise({ ...d.start, x: d.start.x + dx, y: d.start.y + dy }));
    } else {
      onChange(normalise({ ...d.start, width: Math.min(d.start.width + dx, 1 - d.start.x), height: Math.min(d.start.height + dy, 1 - d.start.y) }));
    }
  };

  const onPointerUp = (event: PointerEvent<HTMLDivElement>) => {
    if (drag.current?.pointerId !== event.pointerId) return;
    drag.current = null;
    setDragging(false);
    if (isWhole(region)) onChange(null);
  };

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const delta: Record<string, [number, number]> = { ArrowLeft: [-STEP, 0], ArrowRight: [STEP, 0], ArrowUp: [0, -STEP], ArrowDown: [0, STEP] };
    if (event.key === 'Escape' || event.key === 'Delete' || event.key === 'Backspace') {
      if (!whole) {
        onChange(null);
        event.preventDefault();
      }
      return;
    }
    const move = delta[event.key];
    if (!move) return;
    event.preventDefault();
    const [dx, dy] = move;
    // From the whole photo, the first key press shrinks the box so that there is room to move it.
    const start = whole ? { x: 0.1, y: 0.1, width: 0.8, height: 0.8 } : r;
    const next = event.shiftKey
      ? { ...start, width: start.width + dx, height: start.height + dy }
      : { ...start, x: start.x + dx, y: start.y + dy };
    const n = normalise(next);
    onChange(isWhole(n) ? null : n);
  };

  return (
    <div className="crop">
      <div
        ref={frame}
        className={`crop-frame${dragging ? ' dragging' : ''}`}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={onPointerUp}
      >
        <img src={src} alt={alt} draggable={false} onError={onError} />
        <div
          className={`crop-box${whole ? ' whole' : ''}`}
          data-box="1"
          style={{ left: `${r.x * 100}%`, top: `${r.y * 100}%`, width: `${r.width * 100}%`, height: `${r.height * 100}%` }}
          tabIndex={0}
          role="group"
          aria-roledescription="crop box"
          aria-label={`Search area: ${describeRegion(region)}`}
          aria-describedby={`${id}-help`}
          onKeyDown={onKeyDown}
        >
          {!whole && <span className="crop-handle" data-handle="1" aria-hidden="true" />}
        </div>
      </div>
      <p id={`${id}-help`} className="hint">
        Drag on the photo to search only part of it. Keyboard: focus the box, arrows move it, Shift+arrows resize it, Escape uses the
        whole photo.
      </p>
      <p className="crop-status">
        Searching in <strong>{describeRegion(region)}</strong>
        {!whole && (
          <>
            {' '}
            <button type="button" className="link-button" onClick={() => onChange(null)}>
              Use the whole photo
            </button>
          </>
        )}
      </p>
    </div>
  );
}
