import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'

/** A child process running worker.ts on the shared store. */
export class Worker {
  readonly child: ChildProcess
  readonly lines: string[] = []
  stderr = ''
  #next = 0
  readonly #waiting = new Map<number, (answer: any) => void>()
  readonly ready: Promise<void>
  readonly exited: Promise<number | null>

  constructor(url: string, schema: string) {
    this.child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'worker.ts'), url, schema], { stdio: ['pipe', 'pipe', 'pipe'] })
    this.child.stderr!.on('data', (d) => (this.stderr += d))
    this.exited = new Promise((resolve) => this.child.on('close', (code) => resolve(code)))
    let buffer = ''
    let started!: () => void
    this.ready = new Promise<void>((resolve, reject) => {
      started = resolve
      this.exited.then((code) => reject(new Error(`worker exited with ${code}: ${this.stderr}`)))
    })
    this.child.stdout!.on('data', (data) => {
      buffer += data
      let nl: number
      while ((nl = buffer.indexOf('\n')) !== -1) {
        const line = buffer.slice(0, nl)
        buffer = buffer.slice(nl + 1)
        if (!line.startsWith('{')) {
          this.lines.push(line)
          continue
        }
        const message = JSON.parse(line)
        if (message.ready) started()
        else this.#waiting.get(message.id)?.(message)
      }
    })
  }

  /** Runs a command; resolves with its value, rejects with its error. */
  async run<T = any>(op: string, args: object = {}): Promise<T> {
    const id = this.#next++
    const answer = new Promise<any>((resolve) => this.#waiting.set(id, resolve))
    this.child.stdin!.write(JSON.stringify({ id, op, ...args }) + '\n')
    const message = await answer
    if (!message.ok) throw Object.assign(new Error(message.error.message), { code: message.error.code })
    return message.value
  }

  /** Starts a command without waiting for its answer (churn runs until killed). */
  start(op: string, args: object = {}): void {
    this.child.stdin!.write(JSON.stringify({ id: this.#next++, op, ...args }) + '\n')
  }

  async close(): Promise<void> {
    this.child.stdin!.end()
    await this.exited
  }

  async kill(): Promise<void> {
    this.child.kill('SIGKILL')
    await this.exited
  }
}

export async function workers(n: number, url: string, schema: string): Promise<Worker[]> {
  const list = Array.from({ length: n }, () => new Worker(url, schema))
  await Promise.all(list.map((w) => w.ready))
  return list
}
