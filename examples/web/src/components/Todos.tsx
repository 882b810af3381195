import { useCollection, useMutations } from '@syncline/react';
import { type FormEvent, useState } from 'react';
import { type AppCollections, newId, type Todo } from '../collections.js';
import { writeProblem } from '../write-problem.js';
import { SyncDot } from './SyncDot.js';

function TodoRow({
  id,
  todo,
  problem,
  onProblem,
}: {
  id: string;
  todo: Readonly<Todo>;
  /** Why this row's last write was refused, if it was. */
  problem: string | undefined;
  onProblem: (id: string, problem: string | null) => void;
}) {
  const todos = useMutations<AppCollections, 'todos'>('todos');
  const [editing, setEditing] = useState<string | null>(null);
  // A write the client refuses (say, a title over the size limits, or a full storage) rejects:
  // the row says why instead of an uncaught error in the page; `refused` gives back what was
  // typed. The reason is kept by the list, not the row: a refused delete takes the row away and
  // back (a new row), which must still say why.
  const attempt = async (what: string, write: () => Promise<void>, refused?: () => void) => {
    onProblem(id, null);
    try {
      await write();
    } catch (error) {
      refused?.();
      onProblem(id, `${what}: ${writeProblem(error)}`);
    }
  };
  const rename = (event: FormEvent) => {
    event.preventDefault();
    if (editing === null) return;
    const text = editing.trim();
    setEditing(null);
    if (text === '') return;
    void attempt(
      'Not renamed',
      () => todos.patch(id, { title: text }),
      () => setEditing(text),
    );
  };
  return (
    <li className={todo.done ? 'done' : ''} data-testid="todo" data-id={id} data-title={todo.title}>
      <SyncDot collection="todos" id={id} />
      <input
        type="checkbox"
        checked={todo.done}
        aria-label={`done: ${todo.title}`}
        onChange={(e) => {
          const done = e.target.checked;
          void attempt(done ? 'Not ticked' : 'Not unticked', () => todos.patch(id, { done }));
        }}
      />
      {editing === null ? (
        <span className="title">{todo.title}</span>
      ) : (
        <form onSubmit={rename}>
          <input
            aria-label="new title"
            value={editing}
            onChange={(e) => setEditing(e.target.value)}
            onBlur={rename}
          />
        </form>
      )}
      <button type="button" onClick={() => setEditing(todo.title)}>
        Rename
      </button>
      <button type="button" onClick={() => void attempt('Not deleted', () => todos.delete(id))}>
        Delete
      </button>
      {problem !== undefined && (
        <p className="problem" data-testid="todo-row-problem">
          {problem}
        </p>
      )}
    </li>
  );
}

/** The todo list: add, tick, rename, delete; a dot on rows not synced yet. */
export function Todos() {
  const list = useCollection<AppCollections, 'todos'>('todos', { orderBy: 'createdAt' });
  const todos = useMutations<AppCollections, 'todos'>('todos');
  const [title, setTitle] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  // Per row: why its last write was refused.
  const [rowProblems, setRowProblems] = useState<ReadonlyMap<string, string>>(new Map());
  const onRowProblem = (id: string, rowProblem: string | null) =>
    setRowProblems((current) => {
      if (rowProblem === null && !current.has(id)) return current;
      const next = new Map(current);
      if (rowProblem === null) next.delete(id);
      else next.set(id, rowProblem);
      return next;
    });
  const add = async (event: FormEvent) => {
    event.preventDefault();
    const text = title.trim();
    if (text === '') return;
    setProblem(null);
    setTitle('');
    try {
      await todos.put(newId(), { title: text, done: false, createdAt: Date.now() });
    } catch (error) {
      // Refused (say, a title over the size limits): the text comes back, with the reason.
      setTitle(text);
      setProblem(writeProblem(error));
    }
  };
  const open = list.filter((t) => !t.data.done).length;
  return (
    <section className="panel">
      <h2>
        Todos <span className="muted">{open} open</span>
      </h2>
      <form onSubmit={(event) => void add(event)} className="add">
        <input
          aria-label="new todo"
          placeholder="What needs doing?"
          value={title}
          onChange={(e) => setTitle(e.target.value)}
        />
        <button type="submit">Add</button>
      </form>
      {problem !== null && (
        <p className="problem" data-testid="todo-problem">
          {problem}
        </p>
      )}
      <ul className="list">
        {list.map(({ id, data }) => (
          <TodoRow
            key={id}
            id={id}
            todo={data}
            problem={rowProblems.get(id)}
            onProblem={onRowProblem}
          />
        ))}
      </ul>
      {list.length === 0 && <p className="muted">Nothing to do.</p>}
    </section>
  );
}
