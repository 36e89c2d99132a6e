/** The outcome of one audit check. */
export type CheckStatus = 'PASS' | 'FAIL' | 'WARN';

/** One line of the audit. */
export interface CheckResult {
  status: CheckStatus;
  /** Short stable name, e.g. `cookie __Host-tw_at`. */
  check: string;
  /** What was seen (and, on FAIL/WARN, what API.md asks for). */
  detail: string;
}

/**
 * Collects check results and hands each to `onResult` as soon as it is known, so a slow
 * deployment shows progress line by line.
 *
 * @example
 * ```ts
 * const report = new AuditReport((r) => console.log(formatResult(r)));
 * report.pass('healthz', '200 {"status":"ok"}');
 * ```
 */
export class AuditReport {
  readonly results: CheckResult[] = [];
  readonly notes: string[] = [];
  readonly #onResult: (result: CheckResult) => void;

  constructor(onResult: (result: CheckResult) => void = () => {}) {
    this.#onResult = onResult;
  }

  add(status: CheckStatus, check: string, detail: string): void {
    const result = { status, check, detail };
    this.results.push(result);
    this.#onResult(result);
  }

  pass(check: string, detail: string): void {
    this.add('PASS', check, detail);
  }

  fail(check: string, detail: string): void {
    this.add('FAIL', check, detail);
  }

  warn(check: string, detail: string): void {
    this.add('WARN', check, detail);
  }

  /** PASS with `okDetail` when `problems` is empty, else FAIL listing them. */
  expect(check: string, problems: string[], okDetail: string): void {
    if (problems.length === 0) this.pass(check, okDetail);
    else this.fail(check, problems.join('; '));
  }

  count(status: CheckStatus): number {
    return this.results.filter((r) => r.status === status).length;
  }
}

/**
 * `PASS  healthz: 200 {"status":"ok"}`
 *
 * @example
 * ```ts
 * formatResult({ status: 'PASS', check: 'GET /healthz', detail: '200' }); // 'PASS  GET /healthz: 200'
 * ```
 */
export function formatResult(r: CheckResult): string {
  return `${r.status}  ${r.check}${r.detail === '' ? '' : `: ${r.detail}`}`;
}
