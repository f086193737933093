// The last lines a process wrote, kept in a ring: what a crash report shows. Chunks may split lines anywhere.

export class TailLines {
  private readonly lines: string[] = [];
  private partial = '';

  constructor(private readonly capacity = 50) {}

  /** Adds a chunk of output; returns the complete lines it finished, for whoever shows them live. */
  write(chunk: string): string[] {
    const parts = (this.partial + chunk).split(/\r?\n/);
    this.partial = parts.pop() ?? '';
    for (const line of parts) this.push(line);
    return parts;
  }

  /** Adds one whole line (a log line that came as a message). */
  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.capacity) this.lines.shift();
  }

  /** The kept lines, oldest first, with an unfinished last line if there is one. */
  snapshot(): string[] {
    const all = this.partial === '' ? [...this.lines] : [...this.lines, this.partial];
    return all.slice(-this.capacity);
  }
}
