/** A small FIFO with O(1) push, shift and unshift. */
export class Deque<T> {
  private items: Array<T | undefined> = new Array<T | undefined>(16);
  private head = 0;
  private count = 0;

  get length(): number {
    return this.count;
  }

  push(v: T): void {
    this.grow();
    this.items[(this.head + this.count) & (this.items.length - 1)] = v;
    this.count++;
  }

  unshift(v: T): void {
    this.grow();
    this.head = (this.head - 1) & (this.items.length - 1);
    this.items[this.head] = v;
    this.count++;
  }

  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const v = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) & (this.items.length - 1);
    this.count--;
    return v;
  }

  at(i: number): T | undefined {
    if (i < 0 || i >= this.count) return undefined;
    return this.items[(this.head + i) & (this.items.length - 1)];
  }

  /** Remove the first element matching `pred`; returns it. */
  remove(pred: (v: T) => boolean): T | undefined {
    for (let i = 0; i < this.count; i++) {
      const v = this.at(i)!;
      if (pred(v)) {
        const rest: T[] = [];
        for (let j = i + 1; j < this.count; j++) rest.push(this.at(j)!);
        this.count = i;
        for (const r of rest) this.push(r);
        return v;
      }
    }
    return undefined;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = 0; i < this.count; i++) yield this.at(i)!;
  }

  clear(): T[] {
    const all = [...this];
    this.items = new Array<T | undefined>(16);
    this.head = 0;
    this.count = 0;
    return all;
  }

  private grow(): void {
    if (this.count < this.items.length) return;
    const next = new Array<T | undefined>(this.items.length * 2);
    for (let i = 0; i < this.count; i++) next[i] = this.at(i);
    this.items = next;
    this.head = 0;
  }
}
