import type { Locator, Page } from 'playwright-core';
import { z } from 'zod';

/**
 * What the model can do on a page: the action schema (one JSON object per action), how a reply is read into
 * actions, and how each action is performed. An action the schema refuses, or one that fails on the page, is
 * an error the model sees on its next turn — never a crash of the episode.
 */

const ref = z.number().int().positive();
const target = { ref: ref.optional(), selector: z.string().min(1).optional() };
const oneTarget = (a: { ref?: number | undefined; selector?: string | undefined }) =>
  (a.ref === undefined) !== (a.selector === undefined);
const targetRule = { message: 'give exactly one of ref or selector' };
const atMostOneTarget = (a: { ref?: number | undefined; selector?: string | undefined }) =>
  a.ref === undefined || a.selector === undefined;

export const actionSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('click'), ...target }).refine(oneTarget, targetRule),
  z
    .strictObject({ type: z.literal('type'), ...target, text: z.string(), clear: z.boolean().optional() })
    .refine(oneTarget, targetRule),
  z
    .strictObject({ type: z.literal('key'), key: z.string().min(1), ...target })
    .refine(atMostOneTarget, { message: 'give at most one of ref or selector' }),
  z
    .strictObject({ type: z.literal('select'), ...target, label: z.string().optional(), value: z.string().optional() })
    .refine(oneTarget, targetRule)
    .refine((a) => (a.label === undefined) !== (a.value === undefined), {
      message: 'give exactly one of label or value',
    }),
  z.strictObject({ type: z.literal('hover'), ...target }).refine(oneTarget, targetRule),
  z
    .strictObject({ type: z.literal('scroll'), ...target, dx: z.number().optional(), dy: z.number().optional() })
    .refine(atMostOneTarget, { message: 'give at most one of ref or selector' }),
  z
    .strictObject({
      type: z.literal('drag'),
      ...target,
      to_ref: ref.optional(),
      to_selector: z.string().min(1).optional(),
    })
    .refine(oneTarget, targetRule)
    .refine((a) => (a.to_ref === undefined) !== (a.to_selector === undefined), {
      message: 'give exactly one of to_ref or to_selector',
    }),
  z.strictObject({ type: z.literal('click_at'), x: z.number().min(0), y: z.number().min(0) }),
  z.strictObject({ type: z.literal('wait'), ms: z.number().int().min(0).max(5000) }),
]);
export type BrowserAction = z.output<typeof actionSchema>;

/** The action schema as the model reads it: in every system prompt, and in docs/targets.md. */
export const ACTION_REFERENCE = [
  '{"type": "click", "ref": n}',
  '{"type": "type", "ref": n, "text": "...", "clear": true}   (replaces the field\'s text; "clear": false appends)',
  '{"type": "key", "key": "Enter", "ref": n}   (ref optional: the key goes to the focused element)',
  '{"type": "select", "ref": n, "label": "..."} or {"type": "select", "ref": n, "value": "..."}   (an option of a select)',
  '{"type": "hover", "ref": n}',
  '{"type": "scroll", "ref": n} or {"type": "scroll", "dx": 0, "dy": 300}   (an element into view, or the page by pixels)',
  '{"type": "drag", "ref": n, "to_ref": m}',
  '{"type": "click_at", "x": 120, "y": 45}   (viewport pixels, for what has no ref)',
  '{"type": "wait", "ms": 500}   (at most 5000)',
];

export const SYSTEM_PROMPT = [
  'You operate a web page to complete a task.',
  "Each turn you get the task, the page's text and its interactive elements, numbered [n] with their role, name and state",
  '(a select lists its options below it), and the results of your earlier actions.',
  'Answer with JSON only: {"actions": [...]} where each action is one of',
  ...ACTION_REFERENCE.map((line) => `  ${line}`),
  'Instead of "ref": n any action may name its element by a CSS selector: "selector": "#id" (drag: "to_selector").',
  'Actions run in order; an action that fails is reported to you next turn and the rest still run.',
  'Answer {"actions": []} when the task is complete.',
].join('\n');

export interface ParsedReply {
  actions: BrowserAction[];
  /** One message per action the schema refused. */
  invalid: string[];
}

function actionList(text: string): unknown[] | undefined {
  try {
    const value = JSON.parse(text.trim()) as unknown;
    const list = Array.isArray(value) ? value : (value as { actions?: unknown } | null)?.actions;
    return Array.isArray(list) ? list : undefined;
  } catch {
    return undefined;
  }
}

/** Reads `{"actions": [...]}` (or a bare list) from a reply, fenced or not; undefined when there is none. */
export function parseActions(reply: string): ParsedReply | undefined {
  const candidates = [
    /```(?:json)?\s*([\s\S]*?)```/.exec(reply)?.[1],
    reply,
    /\{[\s\S]*\}|\[[\s\S]*\]/.exec(reply)?.[0],
  ].filter((c): c is string => c !== undefined);
  for (const candidate of candidates) {
    const list = actionList(candidate);
    if (!list) continue;
    const parsed: ParsedReply = { actions: [], invalid: [] };
    for (const item of list) {
      const result = actionSchema.safeParse(item);
      if (result.success) parsed.actions.push(result.data);
      else
        parsed.invalid.push(
          `invalid action ${JSON.stringify(item)}: ${result.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ` : '') + i.message).join('; ')}`,
        );
    }
    return parsed;
  }
  return undefined;
}

/** The attribute the observation puts on every element it lists. */
export const REF_ATTRIBUTE = 'data-skill-eval-ref';

/** A locator for an action's element; rejects a ref the page does not hold with a message for the model. */
async function locate(page: Page, refValue: number | undefined, selector: string | undefined): Promise<Locator> {
  const locator = selector ? page.locator(selector).first() : page.locator(`[${REF_ATTRIBUTE}="${refValue}"]`).first();
  if ((await locator.count()) === 0)
    throw new Error(
      selector ? `no element matches selector ${JSON.stringify(selector)}` : `no element [${refValue}] on the page`,
    );
  return locator;
}

/** Performs one action; throws an Error whose first line is what the model is told. */
export async function perform(page: Page, action: BrowserAction, timeout: number): Promise<void> {
  switch (action.type) {
    case 'click':
      return (await locate(page, action.ref, action.selector)).click({ timeout });
    case 'type': {
      const field = await locate(page, action.ref, action.selector);
      if (action.clear === false) return field.pressSequentially(action.text, { timeout });
      return field.fill(action.text, { timeout });
    }
    case 'key':
      if (action.ref === undefined && !action.selector) return page.keyboard.press(action.key);
      return (await locate(page, action.ref, action.selector)).press(action.key, { timeout });
    case 'select': {
      const list = await locate(page, action.ref, action.selector);
      await list.selectOption(action.label !== undefined ? { label: action.label } : { value: action.value! }, {
        timeout,
      });
      return;
    }
    case 'hover':
      return (await locate(page, action.ref, action.selector)).hover({ timeout });
    case 'scroll':
      if (action.ref !== undefined || action.selector)
        return (await locate(page, action.ref, action.selector)).scrollIntoViewIfNeeded({ timeout });
      return page.mouse.wheel(action.dx ?? 0, action.dy ?? 300);
    case 'drag': {
      const from = await locate(page, action.ref, action.selector);
      return from.dragTo(await locate(page, action.to_ref, action.to_selector), { timeout });
    }
    case 'click_at':
      return page.mouse.click(action.x, action.y);
    case 'wait':
      return page.waitForTimeout(action.ms);
  }
}
