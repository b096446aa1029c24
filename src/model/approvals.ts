/**
 * Nexora's approval escalation on the scheduler: a `workflow_approval`
 * request (to its approvers, by role or by user) schedules, at its
 * `respond_by`, the `[ESCALATION]` notice to its escalation contact and a
 * timeout notice to the approvers; a `workflow_approval_answered` of the same
 * approval cancels both. The data fields are the catalogue's for these types.
 */
import type { NotificationEvent } from './notification.ts';
import type { Timer } from './timer.ts';

export const APPROVAL_REQUEST = 'workflow_approval';
export const APPROVAL_ANSWER = 'workflow_approval_answered';
export const APPROVAL_ESCALATION = 'approval_escalation';
export const APPROVAL_TIMEOUT = 'approval_timed_out';

interface RequestData {
  approval_id: string;
  step: string;
  /** ISO 8601 */
  respond_by: string;
  /** user id */
  escalation_contact?: string;
}

/** The timer keys of an approval's escalation and timeout notice: an answer cancels them by these. */
export function approvalTimerKeys(approvalId: string): { escalation: string; timeout: string } {
  return { escalation: `approval:${approvalId}:escalation`, timeout: `approval:${approvalId}:timeout` };
}

/** The timers an approval request schedules (none for another type, or a request without its fields); `now`: ms since the epoch. */
export function approvalTimers(request: NotificationEvent, now: number): Timer[] {
  if (request.type !== APPROVAL_REQUEST) return [];
  const data = requestData(request);
  if (!data) return [];
  const due = Date.parse(data.respond_by);
  const keys = approvalTimerKeys(data.approval_id);
  const minutes = Math.max(0, Math.round((due - request.occurred_at) / 60_000));
  const approvers = [...(request.audience?.roles ?? []), ...(request.audience?.user_ids ?? []), ...(request.user_id ? [request.user_id] : [])].join(', ');
  const details = { approval_id: data.approval_id, step: data.step, respond_by: data.respond_by, timeout_minutes: minutes, approvers };
  const notice = (overrides: Pick<NotificationEvent, 'type' | 'title' | 'message' | 'severity' | 'user_id' | 'audience'>): NotificationEvent => ({
    ...request, ...overrides, event_id: null, data: JSON.stringify(details), action_url: null, occurred_at: due,
    deliver_at: null, delay_ms: null, timer_key: null, cancels: [],
  });
  const timer = (key: string, event: NotificationEvent): Timer => ({ timer_key: key, state: 'pending', event, due_at: due, occurred_at: request.occurred_at, at: now });
  const timers = [timer(keys.timeout, notice({
    type: APPROVAL_TIMEOUT, severity: 'warning', user_id: request.user_id, audience: request.audience,
    title: `Approval timed out: ${data.step}`,
    message: `Nobody answered the approval request "${data.step}" within ${minutes} minutes; it has been escalated.`,
  }))];
  if (data.escalation_contact) {
    timers.push(timer(keys.escalation, notice({
      type: APPROVAL_ESCALATION, severity: 'high', user_id: data.escalation_contact, audience: null,
      title: `[ESCALATION] Approval Timeout: ${data.step}`,
      message: `An approval request has expired without response. Step: ${data.step}; timeout: ${minutes} minutes; original approvers: ${approvers}. Please review and take appropriate action.`,
    })));
  }
  return timers;
}

/** The timer keys an approval's answer cancels (none for another type). */
export function answerCancels(answer: NotificationEvent): string[] {
  if (answer.type !== APPROVAL_ANSWER) return [];
  const id = dataField(answer, 'approval_id');
  if (!id) return [];
  const keys = approvalTimerKeys(id);
  return [keys.escalation, keys.timeout];
}

function requestData(event: NotificationEvent): RequestData | undefined {
  const [approvalId, step, respondBy] = [dataField(event, 'approval_id'), dataField(event, 'step'), dataField(event, 'respond_by')];
  if (!approvalId || !step || !respondBy || Number.isNaN(Date.parse(respondBy))) return undefined;
  const contact = dataField(event, 'escalation_contact');
  return { approval_id: approvalId, step, respond_by: respondBy, ...(contact ? { escalation_contact: contact } : {}) };
}

function dataField(event: NotificationEvent, name: string): string | undefined {
  if (event.data === null) return undefined;
  try {
    const value = (JSON.parse(event.data) as Record<string, unknown>)[name];
    return typeof value === 'string' && value.length > 0 ? value : undefined;
  } catch {
    return undefined;
  }
}
