/**
 * The notification types Tidings knows, with their category. Unknown types are
 * accepted under the category "custom", so producers can add types without a
 * release of Tidings.
 */
export const CATEGORIES = ['job', 'agent', 'security', 'system', 'access', 'custom'] as const;
export type Category = (typeof CATEGORIES)[number];

export interface TypeInfo {
  category: Category;
  /** security types that always reach in-app and e-mail, whatever the user chose */
  mandatory: boolean;
}

export const CATALOGUE: Readonly<Record<string, TypeInfo>> = Object.freeze({
  job_started: { category: 'job', mandatory: false },
  job_completed: { category: 'job', mandatory: false },
  job_failed: { category: 'job', mandatory: false },
  first_crack: { category: 'job', mandatory: false },
  task_completed_with_cracks: { category: 'job', mandatory: false },
  agent_offline: { category: 'agent', mandatory: false },
  agent_error: { category: 'agent', mandatory: false },
  security_suspicious_login: { category: 'security', mandatory: false },
  security_mfa_disabled: { category: 'security', mandatory: true },
  security_password_changed: { category: 'security', mandatory: true },
  webhook_failure: { category: 'system', mandatory: false },
  maintenance_announcement: { category: 'system', mandatory: false },
  access_denied: { category: 'access', mandatory: false },
  approval_timed_out: { category: 'access', mandatory: false },
});

export function typeInfo(type: string): TypeInfo {
  return CATALOGUE[type] ?? { category: 'custom', mandatory: false };
}
