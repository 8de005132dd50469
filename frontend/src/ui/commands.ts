/** Tiny command bus so global keyboard shortcuts can reach components. */
type Command = "focusComposer" | "noteMode" | "focusSearch" | "toggleHelp" | "focusAssignee";
const handlers = new Map<Command, Set<() => void>>();

export function onCommand(cmd: Command, fn: () => void): () => void {
  if (!handlers.has(cmd)) handlers.set(cmd, new Set());
  handlers.get(cmd)!.add(fn);
  return () => handlers.get(cmd)!.delete(fn);
}

export function runCommand(cmd: Command) {
  handlers.get(cmd)?.forEach((fn) => fn());
}
