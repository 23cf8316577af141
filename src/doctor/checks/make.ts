/** Small helpers shared by the check functions. */
import type { CheckSection, CheckStatus, DoctorCheck, DoctorFacts, DoctorMethod, FixNeeds } from '../types.js';

export function check(
  method: CheckSection,
  name: string,
  usedBy: DoctorMethod[],
  status: CheckStatus,
  message: string,
  fix: string | null = null,
  needs: FixNeeds = 'none',
): DoctorCheck {
  return { method, check: name, status, message, fix, needs, usedBy };
}

/** A setting's value as the server reports it (undefined when absent or not visible). */
export function setting(facts: DoctorFacts, name: string): string | undefined {
  return facts.settings?.find((s) => s.name === name)?.setting;
}

/** Quote a role name for SQL when it needs it. */
export function sqlIdent(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

/** The methods among `usedBy` that were asked for. */
export function asked(facts: DoctorFacts, usedBy: DoctorMethod[]): DoctorMethod[] {
  return usedBy.filter((m) => facts.methods.includes(m));
}
