/**
 * One generation at a time, a bounded line behind it: a task runs at once
 * when nothing runs, waits when fewer than `capacity` wait, and is refused
 * with a 429 otherwise. Closing refuses the waiting ones (503).
 *
 * @example
 * const queue = new GenerationQueue(16);
 * const result = await queue.run(() => runJob(served, job));
 */
import { ApiError } from "./request.js";

export class GenerationQueue {
  private running = false;
  private readonly waiting: { start: () => void; refuse: (err: Error) => void }[] = [];
  private closed = false;

  constructor(readonly capacity: number) {}

  /** Requests waiting now (the running one not counted). */
  get waitingCount(): number {
    return this.waiting.length;
  }

  /** Runs `task` when its turn comes; throws ApiError 429 when the line is full, 503 once closed. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.closed) throw shuttingDown();
    if (this.running) {
      if (this.waiting.length >= this.capacity)
        throw new ApiError(
          429,
          `the server is busy: ${this.waiting.length} requests wait for the one generating; retry later`,
          "rate_limit_exceeded",
          null,
          "queue_full",
        );
      await new Promise<void>((start, refuse) => this.waiting.push({ start, refuse }));
    }
    this.running = true;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next === undefined) this.running = false;
      else next.start();
    }
  }

  /** Refuses every waiting task and any later one (503); the running one finishes or is aborted by its owner. */
  close(): void {
    this.closed = true;
    for (const w of this.waiting.splice(0)) w.refuse(shuttingDown());
  }
}

function shuttingDown(): ApiError {
  return new ApiError(503, "the server is shutting down", "server_error", null, "shutting_down");
}
