import { Resvg } from '@resvg/resvg-js'
import type { BenchResults, Sender } from '../lib/results.ts'
import { SYSTEM_LABELS } from '../lib/systems.ts'

const COLORS: Record<Sender, string> = {
  undici: '#9e9e9e',
  'hookline-sqlite': '#1565c0',
  'hookline-pg': '#2e7d32',
  'hookline-pg-notify': '#81c784',
  pgboss: '#ef6c00',
  bullmq: '#c62828',
  'bullmq-pg': '#ef9a9a',
}
const ORDER: Sender[] = [
  'undici',
  'hookline-sqlite',
  'hookline-pg',
  'hookline-pg-notify',
  'pgboss',
  'bullmq',
  'bullmq-pg',
]
const FONT = 'font-family="DejaVu Sans, sans-serif"'

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;')
const short = (v: number) =>
  !Number.isFinite(v)
    ? 'n/a'
    : v >= 1000
      ? `${(v / 1000).toFixed(1)}k`
      : v < 10
        ? v.toFixed(1)
        : v.toFixed(0)

interface Group {
  readonly label: string
  readonly bars: { sender: Sender; value: number; min: number; max: number }[]
}

/** A grouped bar panel with whiskers for min–max; log scale when values span decades. */
function panel(
  x0: number,
  y0: number,
  w: number,
  h: number,
  title: string,
  unit: string,
  groups: Group[],
  log: boolean,
): string {
  const values = groups
    .flatMap((g) => g.bars.flatMap((b) => [b.value, b.max]))
    .filter(Number.isFinite)
  const top = Math.max(1, ...values) * 1.15
  const bottom = log ? Math.max(0.1, Math.min(...values.filter((v) => v > 0)) / 2) : 0
  const scale = (v: number) => {
    if (!Number.isFinite(v) || v <= 0) return 0
    return log
      ? (Math.log10(Math.max(v, bottom) / bottom) / Math.log10(top / bottom)) * h
      : (v / top) * h
  }
  const out: string[] = []
  out.push(
    `<text x="${x0}" y="${y0 - 28}" font-size="16" font-weight="bold" ${FONT}>${esc(title)}</text>`,
  )
  out.push(`<text x="${x0}" y="${y0 - 10}" font-size="12" fill="#555" ${FONT}>${esc(unit)}</text>`)
  const ticks = log
    ? Array.from({ length: 8 }, (_, i) => 10 ** (Math.floor(Math.log10(bottom)) + i)).filter(
        (t) => t >= bottom && t <= top,
      )
    : Array.from({ length: 5 }, (_, i) => (top / 5) * (i + 1))
  for (const t of ticks) {
    const y = y0 + h - scale(t)
    out.push(`<line x1="${x0}" x2="${x0 + w}" y1="${y}" y2="${y}" stroke="#e0e0e0"/>`)
    out.push(
      `<text x="${x0 - 6}" y="${y + 4}" font-size="11" text-anchor="end" fill="#555" ${FONT}>${short(t)}</text>`,
    )
  }
  out.push(`<line x1="${x0}" x2="${x0 + w}" y1="${y0 + h}" y2="${y0 + h}" stroke="#333"/>`)
  const gw = w / groups.length
  groups.forEach((g, gi) => {
    const bw = Math.min(34, (gw * 0.8) / Math.max(1, g.bars.length))
    const start = x0 + gi * gw + (gw - bw * g.bars.length) / 2
    g.bars.forEach((b, bi) => {
      const bh = scale(b.value)
      const x = start + bi * bw
      out.push(
        `<rect x="${x + 2}" y="${y0 + h - bh}" width="${bw - 4}" height="${bh}" fill="${COLORS[b.sender]}"/>`,
      )
      if (Number.isFinite(b.min) && Number.isFinite(b.max) && b.max > b.min) {
        const cx = x + bw / 2
        out.push(
          `<line x1="${cx}" x2="${cx}" y1="${y0 + h - scale(b.max)}" y2="${y0 + h - scale(b.min)}" stroke="#000" stroke-width="1"/>`,
        )
      }
      out.push(
        `<text x="${x + bw / 2}" y="${y0 + h - bh - 4}" font-size="10" text-anchor="middle" ${FONT}>${short(b.value)}</text>`,
      )
    })
    out.push(
      `<text x="${x0 + gi * gw + gw / 2}" y="${y0 + h + 18}" font-size="12" text-anchor="middle" ${FONT}>${esc(g.label)}</text>`,
    )
  })
  return out.join('\n')
}

export function renderSvg(r: BenchResults): string {
  const W = 1200
  const H = 540
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
  ]
  const subs = [...new Set(r.throughput.map((t) => t.subscriptions))]
  const tGroups: Group[] = subs.map((s) => ({
    label: `${s} subscription${s > 1 ? 's' : ''}`,
    bars: ORDER.flatMap((sender) => {
      const t = r.throughput.find((x) => x.system === sender && x.subscriptions === s)
      return t ? [{ sender, value: t.rate.median, min: t.rate.min, max: t.rate.max }] : []
    }),
  }))
  parts.push(
    panel(
      80,
      80,
      480,
      330,
      'Throughput, end to end',
      'deliveries/s (median, whisker = min–max)',
      tGroups,
      false,
    ),
  )
  const rates = [...new Set(r.latency.map((l) => l.rate))]
  const lGroups: Group[] = rates.flatMap((rate) =>
    (['p50', 'p99'] as const).map((q) => ({
      label: `${q} at ${rate}/s`,
      bars: ORDER.flatMap((sender) => {
        const l = r.latency.find((x) => x.system === sender && x.rate === rate)
        return l ? [{ sender, value: l[q].median, min: l[q].min, max: l[q].max }] : []
      }),
    })),
  )
  parts.push(
    panel(
      700,
      80,
      460,
      330,
      'Latency, commit to receipt',
      'ms, log scale (lower is better)',
      lGroups,
      true,
    ),
  )
  const present = ORDER.filter(
    (s) => r.throughput.some((t) => t.system === s) || r.latency.some((l) => l.system === s),
  )
  // Three to a row: six labels do not fit on one.
  present.forEach((s, i) => {
    const x = 80 + (i % 3) * 360
    const y = H - 66 + Math.floor(i / 3) * 22
    parts.push(`<rect x="${x}" y="${y}" width="14" height="14" fill="${COLORS[s]}"/>`)
    parts.push(
      `<text x="${x + 20}" y="${y + 12}" font-size="13" ${FONT}>${esc(SYSTEM_LABELS[s])}</text>`,
    )
  })
  const m = r.meta as any
  parts.push(
    `<text x="${W - 20}" y="${H - 12}" font-size="11" fill="#777" text-anchor="end" ${FONT}>${esc(`${m.cpuModel ?? ''} · nproc ${m.nproc ?? '?'} · Node ${m.node ?? ''} · ${m.mode ?? ''} mode`)}</text>`,
  )
  parts.push('</svg>')
  return parts.join('\n')
}

/** The chart as PNG (resvg: no browser, no downloaded binary). */
export async function renderChart(r: BenchResults): Promise<Buffer> {
  const svg = renderSvg(r)
  return new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } })
    .render()
    .asPng()
}
