/**
 * The `data` of Nexora's approval flow: the request to the approvers, and an
 * approver's answer (which cancels the pending escalation).
 */
import type { DataSchema } from './data-schema.ts';

export const APPROVAL_ANSWERS = ['approved', 'rejected'] as const;

export const WORKFLOW_APPROVAL_DATA: DataSchema = {
  type: 'object',
  description: 'An approval request: who may answer until when, and who hears when nobody did.',
  properties: {
    approval_id: { type: 'string', maxLength: 200, description: 'the request; an answer and the escalation name it' },
    step: { type: 'string', maxLength: 200, description: 'the workflow step waiting for approval' },
    respond_by: { type: 'string', format: 'date-time', description: 'ISO 8601: when the request times out and escalates' },
    escalation_contact: { type: 'string', maxLength: 200, nullable: true, description: 'user id that gets the [ESCALATION] notice on timeout' },
    approve_url: { type: 'string', format: 'uri', nullable: true, description: 'where an approver approves' },
    reject_url: { type: 'string', format: 'uri', nullable: true, description: 'where an approver rejects' },
  },
  required: ['approval_id', 'step', 'respond_by'],
  // Nexora adds its own details (workflow, execution id, approvers): kept and shown, not checked.
  additionalProperties: true,
};

export const WORKFLOW_APPROVAL_ANSWERED_DATA: DataSchema = {
  type: 'object',
  description: 'An approver answered an approval request.',
  properties: {
    approval_id: { type: 'string', maxLength: 200, description: 'the request answered' },
    answer: { type: 'string', enum: APPROVAL_ANSWERS },
    answered_by: { type: 'string', maxLength: 200, nullable: true, description: 'user id of the approver' },
  },
  required: ['approval_id', 'answer'],
  additionalProperties: true,
};
