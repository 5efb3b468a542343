/**
 * Typed attribute readers shared by the configuration loaders. Each reader records a problem
 * (`file:line: key: what`) and returns undefined instead of throwing, so one run reports every
 * problem of a directory.
 */
import { type ProblemList } from '../errors.js';
import { type XmlElement } from './xml.js';

/** Where a value came from, for problem reports. */
export interface At {
  readonly file: string;
  readonly problems: ProblemList;
}

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parse a Liberty-style duration (`500ms`, `30s`, `5m`, `1h`, or a bare number in `defaultUnit`).
 * Returns ms, or undefined when malformed.
 */
export function parseDuration(text: string, defaultUnit: 'ms' | 's'): number | undefined {
  const m = /^\s*(\d{1,10})\s*(ms|s|m|h)?\s*$/.exec(text);
  if (!m) return undefined;
  return Number(m[1]) * UNITS[m[2] ?? defaultUnit]!;
}

/** Attribute reader bound to one element. */
export class Attrs {
  private readonly used = new Set<string>();
  constructor(
    readonly el: XmlElement,
    private readonly at: At,
  ) {}

  /** Report a problem on an attribute (or on the element when the attribute is absent). */
  problem(key: string, message: string): void {
    const line = this.el.attributes.get(key)?.line ?? this.el.line;
    this.at.problems.add(this.at.file, line, `${this.el.name}.${key}`, message);
  }

  has(key: string): boolean {
    return this.el.attributes.has(key);
  }

  line(key?: string): number {
    return (key && this.el.attributes.get(key)?.line) || this.el.line;
  }

  str(key: string): string | undefined {
    this.used.add(key);
    return this.el.attributes.get(key)?.value;
  }

  required(key: string): string | undefined {
    const v = this.str(key);
    if (v === undefined || v.trim() === '') {
      this.problem(key, 'is required');
      return undefined;
    }
    return v.trim();
  }

  int(key: string, min: number, max: number, fallback: number): number {
    const v = this.str(key);
    if (v === undefined || v.trim() === '') return fallback;
    if (!/^-?\d{1,12}$/.test(v.trim()) || Number(v) < min || Number(v) > max) {
      this.problem(key, `must be an integer from ${min} to ${max}, got "${v}"`);
      return fallback;
    }
    return Number(v);
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.str(key);
    if (v === undefined || v.trim() === '') return fallback;
    const t = v.trim().toLowerCase();
    if (t === 'true') return true;
    if (t === 'false') return false;
    this.problem(key, `must be true or false, got "${v}"`);
    return fallback;
  }

  duration(key: string, defaultUnit: 'ms' | 's', fallback: number, max = 86_400_000): number {
    const v = this.str(key);
    if (v === undefined || v.trim() === '') return fallback;
    const ms = parseDuration(v, defaultUnit);
    if (ms === undefined || ms > max) {
      this.problem(key, `must be a duration such as 500ms, 30s, 5m or a number of ${defaultUnit === 'ms' ? 'milliseconds' : 'seconds'} (at most ${max} ms), got "${v}"`);
      return fallback;
    }
    return ms;
  }

  oneOf<T extends string>(key: string, allowed: readonly T[], fallback: T): T {
    const v = this.str(key);
    if (v === undefined || v.trim() === '') return fallback;
    const hit = allowed.find((a) => a.toLowerCase() === v.trim().toLowerCase());
    if (hit === undefined) {
      this.problem(key, `must be one of ${allowed.join(', ')}, got "${v}"`);
      return fallback;
    }
    return hit;
  }

  /** Report attributes that no reader asked for (typos). */
  finish(): void {
    for (const [k, a] of this.el.attributes) {
      if (!this.used.has(k)) this.at.problems.add(this.at.file, a.line, `${this.el.name}.${k}`, 'unknown attribute');
    }
  }
}

/** IMS names: 1–8 of A–Z 0–9 @ # $. */
export const IMS_NAME = /^[A-Z0-9@#$]{1,8}$/;
