/** Small display helpers: ages, rates, times. */

export function age(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return "n/a";
  const s = Math.floor(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3_600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86_400) return `${Math.floor(s / 3_600)}h ${Math.floor((s % 3_600) / 60)}m`;
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3_600)}h`;
}

export function since(iso: string | undefined, now: number): string {
  if (!iso) return "unknown";
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return "unknown";
  return `${age(Math.max(0, (now - t) / 1000))} ago`;
}

export function rate(perMinute: number | null): string {
  return perMinute === null ? "–" : `${perMinute}/min`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
