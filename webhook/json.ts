/**
 * Type guards for parsed JSON and YAML (AdmissionReviews, pods from the CLI, the webhook's config
 * file, status records): the one place that says what "an object" and "a list of strings" mean.
 */

/** A JSON object (a mapping): not null, not an array. */
export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A list whose every item is a string (the empty list too). */
export function isStringList(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}
