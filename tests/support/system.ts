// Suites that need a system component (a Postgres server, python3-torch, Chromium) skip with
// one line when it is missing; .ci/run sets REQUIRE_SYSTEM_DEPS=1, which turns a skip into a failure.
export const systemDepsRequired = ['1', 'true', 'yes'].includes(process.env.REQUIRE_SYSTEM_DEPS ?? '');

/** Returns true when the suite may run; otherwise logs why it skips (or throws in CI). */
export function needsSystem(component: string, available: boolean, hint: string): boolean {
  if (available) return true;
  if (systemDepsRequired) throw new Error(`${component} is required (REQUIRE_SYSTEM_DEPS=1) but missing: ${hint}`);
  console.warn(`[skip] ${component} not found: ${hint}`);
  return false;
}
