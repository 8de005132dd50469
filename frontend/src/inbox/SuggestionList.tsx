import type { ReactNode } from "react";

/**
 * A list of suggestions popping up over the composer's text box (@mentions, canned responses). Focus stays
 * in the text box: it points at the highlighted option with aria-activedescendant (see `optionId`).
 */
export function SuggestionList<T extends { id: number }>({
  id,
  label,
  items,
  active,
  onChoose,
  onHover,
  children,
  testId,
  optionTestId,
}: {
  id: string;
  label: string;
  items: T[];
  active: number;
  onChoose: (item: T) => void;
  onHover: (index: number) => void;
  children: (item: T) => ReactNode;
  testId: string;
  optionTestId: string;
}) {
  return (
    <ul className="suggestions" role="listbox" id={id} aria-label={label} data-testid={testId}>
      {items.map((item, i) => (
        <li
          key={item.id}
          id={optionId(id, item)}
          role="option"
          aria-selected={i === active}
          className={i === active ? "active" : ""}
          onMouseDown={(e) => e.preventDefault() /* keep focus in the text box */}
          onMouseEnter={() => onHover(i)}
          onClick={() => onChoose(item)}
          data-testid={optionTestId}
          data-option-id={item.id}
        >
          {children(item)}
        </li>
      ))}
    </ul>
  );
}

export function optionId(listId: string, item: { id: number }): string {
  return `${listId}-${item.id}`;
}
