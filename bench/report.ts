/** The markdown a run prints and docs/benchmarks.md quotes. */
import type { CandidateFigures, Target, UsageCheck } from './results.ts';
import type { ScalePoint } from './scale.ts';

export interface Machine {
  cpus: number;
  cpuModel: string;
  node: string;
  pinned: boolean;
  /** 1-minute load averages when the run began and ended (a run itself keeps about two cores busy). */
  loadBefore: number;
  loadAfter: number;
}

export interface Report {
  date: string;
  mode: string;
  machine: Machine;
  candidates: CandidateFigures[];
  targets: Target[];
  usage?: UsageCheck;
  scale: ScalePoint[];
  skipped: Record<string, string>;
  settings: string;
  /** Where Tollgate kept its data in this run. */
  database: 'pglite' | 'postgres';
  /** The commit of the Tollgate checkout that was measured. */
  tollgate: string;
}

const ms = (us: number | undefined) => (us === undefined || Number.isNaN(us) ? '–' : (us / 1000).toFixed(3));
const plus = (us: number | undefined) => (us === undefined || Number.isNaN(us) ? '–' : `${us < 0 ? '' : '+'}${ms(us)}`);
const num = (value: number | undefined, digits = 0) =>
  value === undefined || Number.isNaN(value) ? '–' : value.toFixed(digits);

function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

function bytes(size: number): string {
  return size >= 1024 * 1024 ? `${size / 1024 / 1024} MB` : size >= 1024 ? `${size / 1024} KB` : `${size} B`;
}

export function markdown(report: Report): string {
  const out: string[] = [];
  const { machine } = report;
  out.push(
    `Tollgate ${report.tollgate}, run of ${report.date} (${report.mode}); ${machine.cpus} CPUs, ${machine.cpuModel}, Node ${machine.node}; ` +
      (machine.pinned ? 'gateway pinned to core 0, load generator and provider to core 1' : 'UNPINNED (no taskset)') +
      `; load average ${machine.loadBefore} before, ${machine.loadAfter} after.`,
    '',
    report.settings,
    '',
    `Tollgate's database: ${report.database === 'pglite' ? 'embedded PGlite (in the gateway process)' : 'PostgreSQL (BENCH_DATABASE_URL, its own process)'}.`,
    '',
  );
  const named = (name: string) => report.candidates.find((c) => c.name === name);
  out.push(
    table(
      [
        'candidate',
        'c=1 p50 ms',
        'c=1 p99 ms',
        'added p50',
        'added p99',
        'req/s c=64',
        'c=64 p50 ms',
        'c=64 p99 ms',
        'added TTFC p50',
        'added gap mean',
        'added gap p99',
        'CPU µs/req',
        'peak RSS MB',
      ],
      report.candidates.map((c) => [
        c.name,
        ms(c.latency.p50),
        ms(c.latency.p99),
        c.name === 'direct' ? '–' : plus(c.addedP50Us),
        c.name === 'direct' ? '–' : plus(c.addedP99Us),
        num(c.throughput.rps),
        c.throughput.p50Ms.toFixed(2),
        c.throughput.p99Ms.toFixed(2),
        c.name === 'direct' ? ms(c.stream.ttfc.p50) : plus(c.stream.addedTtfcP50Us),
        c.name === 'direct' ? ms(c.stream.gap.mean) : plus(c.stream.addedGapMeanUs),
        c.name === 'direct' ? ms(c.stream.gap.p99) : plus(c.stream.addedGapP99Us),
        num(c.cpuUsPerRequest),
        num(c.peakRssMb, 1),
      ]),
    ),
    '',
    'Times in ms; "added" is the candidate minus `direct` (for `direct` the TTFC and gap columns show its own values).',
    '',
  );
  const tollgate = named('tollgate');
  const ratios: string[][] = [];
  for (const other of ['floor', 'portkey', 'direct']) {
    const candidate = named(other);
    if (tollgate && candidate) {
      ratios.push([`tollgate / ${other} throughput`, (tollgate.throughput.rps / candidate.throughput.rps).toFixed(2)]);
    }
  }
  const floor = named('floor');
  if (tollgate?.cpuUsPerRequest && floor?.cpuUsPerRequest) {
    ratios.push(['tollgate / floor CPU per request', (tollgate.cpuUsPerRequest / floor.cpuUsPerRequest).toFixed(2)]);
  }
  if (ratios.length) out.push(table(['ratio', 'value'], ratios), '');
  if (report.targets.length) {
    out.push(
      table(
        ['target', 'goal', 'measured', 'result'],
        report.targets.map((t) => [
          t.name,
          t.goal,
          t.value,
          t.met === null ? 'n/a' : t.met ? 'met' : `**missed** (${t.by})`,
        ]),
      ),
      '',
    );
  }
  const sizes = report.candidates[0]?.prompts.map((p) => p.bytes) ?? [];
  if (sizes.length) {
    const others = report.candidates.filter((c) => c.name !== 'direct');
    out.push(
      table(
        ['request body', 'direct p50 ms', ...others.flatMap((c) => [`${c.name} added p50`, `${c.name} added p99`])],
        sizes.map((size, i) => [
          bytes(size),
          ms(named('direct')?.prompts[i]?.p50Us),
          ...others.flatMap((c) => [plus(c.prompts[i]?.addedP50Us), plus(c.prompts[i]?.addedP99Us)]),
        ]),
      ),
      '',
    );
  }
  const gateways = report.candidates.filter((c) => c.startRssMb !== undefined);
  if (gateways.length) {
    out.push(
      table(
        ['memory (MB)', 'RSS after start', 'peak, main phases', 'peak, with large prompts', 'peak, first start'],
        gateways.map((c) => [
          c.name,
          num(c.startRssMb, 1),
          num(c.peakRssMb, 1),
          num(c.peakRssWithPromptsMb, 1),
          num(c.firstStartPeakRssMb, 1),
        ]),
      ),
      '',
    );
  }
  if (report.scale.length) {
    out.push(
      table(
        [
          'keys in database',
          'start s',
          'cold added p50',
          'cold added p99',
          'warm added p50',
          'warm added p99',
          'RSS MB',
          'peak RSS MB',
        ],
        report.scale.map((p) => [
          p.keys.toLocaleString('en'),
          p.startSeconds.toFixed(1),
          plus(p.cold.added50),
          plus(p.cold.added99),
          plus(p.warm.added50),
          plus(p.warm.added99),
          p.rssMb.toFixed(1),
          p.peakRssMb.toFixed(1),
        ]),
      ),
      '',
    );
  }
  if (report.usage) {
    const u = report.usage;
    out.push(
      `Usage writer during the c=64 phases: max queue depth ${u.maxQueueDepth}; after the run ${u.written} records ` +
        `written for ${u.served} requests served (${u.clientCompleted} seen complete by the client), ${u.dropped} dropped: ` +
        `${u.ok ? 'keeps up' : '**does not keep up**'}.`,
      '',
    );
  }
  for (const [name, why] of Object.entries(report.skipped)) out.push(`Skipped ${name}: ${why}`, '');
  return out.join('\n');
}
