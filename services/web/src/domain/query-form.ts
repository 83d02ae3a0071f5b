/** The named query parameters that hold text, trimmed; empty ones are left out so they never reach an API as "". */
export function pickFilled(query: Record<string, unknown>, names: readonly string[]): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const name of names) {
    const value = query[name];
    if (typeof value === 'string' && value.trim() !== '') picked[name] = value.trim();
  }
  return picked;
}
