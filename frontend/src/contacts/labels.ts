/**
 * Contact label editing, kept pure so it is unit-tested. Label names are slugs (what the server
 * accepts, `[-a-zA-Z0-9_]`, at most 50 characters) and a contact's labels are a sorted set.
 */

export const LABEL_MAX_LENGTH = 50;

/** "Churn risk!" → "churn-risk": what a typed name becomes when no existing label matches it. */
export function slugifyLabel(input: string): string {
  return input
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, "-")
    .replace(/-{2,}/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, LABEL_MAX_LENGTH)
    .replace(/-+$/, "");
}

/**
 * The label an agent means by what they typed: an existing label whatever the case ("VIP" picks
 * "vip", so no near-duplicate is created), otherwise a new slug; null when nothing usable is left.
 */
export function labelFromInput(input: string, known: readonly string[]): string | null {
  const wanted = input.trim().toLowerCase();
  if (!wanted) return null;
  const slug = slugifyLabel(wanted);
  return known.find((k) => k.toLowerCase() === wanted || k.toLowerCase() === slug) ?? (slug || null);
}

/** The set with `name` added, sorted like the server sorts it. */
export function withLabel(labels: readonly string[], name: string): string[] {
  return labels.includes(name) ? [...labels] : [...labels, name].sort();
}

export function withoutLabel(labels: readonly string[], name: string): string[] {
  return labels.filter((l) => l !== name);
}

/** Known labels the contact does not have yet, offered as suggestions while typing. */
export function labelSuggestions(known: readonly string[], current: readonly string[]): string[] {
  return known.filter((k) => !current.includes(k));
}
