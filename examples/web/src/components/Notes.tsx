import { useCollection, useMutations, useRecord } from '@syncline/react';
import { type FormEvent, useEffect, useState } from 'react';
import { type AppCollections, newId } from '../collections.js';
import { writeProblem } from '../write-problem.js';
import { SyncDot } from './SyncDot.js';

function NoteEditor({ id, onClose }: { id: string; onClose: () => void }) {
  const note = useRecord<AppCollections, 'notes'>('notes', id);
  const notes = useMutations<AppCollections, 'notes'>('notes');
  const [title, setTitle] = useState(note?.title ?? '');
  const [body, setBody] = useState(note?.body ?? '');
  // Another device's edit arriving while the editor is open replaces the unsaved text only when
  // nothing was typed yet; otherwise saving makes a conflict, which the panel settles.
  const [touched, setTouched] = useState(false);
  // A write the client refuses (say, a body over the size limits) keeps the editor open and says why.
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    if (!touched && note !== undefined) {
      setTitle(note.title);
      setBody(note.body);
    }
  }, [note, touched]);
  const save = async (event: FormEvent) => {
    event.preventDefault();
    setProblem(null);
    try {
      // A refused write throws at once (a checked input) or rejects; either way it is shown.
      await notes.put(id, { title, body, updatedAt: Date.now() });
      onClose();
    } catch (error) {
      setProblem(writeProblem(error));
    }
  };
  return (
    <form className="editor" onSubmit={(event) => void save(event)}>
      <input
        aria-label="note title"
        value={title}
        onChange={(e) => {
          setTouched(true);
          setTitle(e.target.value);
        }}
      />
      <textarea
        aria-label="note body"
        rows={4}
        value={body}
        onChange={(e) => {
          setTouched(true);
          setBody(e.target.value);
        }}
      />
      {problem !== null && (
        <p className="problem" data-testid="note-problem">
          {problem}
        </p>
      )}
      <div>
        <button type="submit">Save note</button>
        <button type="button" onClick={onClose}>
          Cancel
        </button>
        <button
          type="button"
          onClick={() => {
            void notes.delete(id);
            onClose();
          }}
        >
          Delete
        </button>
      </div>
    </form>
  );
}

/** Notes, edited one at a time; set to manual conflict resolution. */
export function Notes() {
  const list = useCollection<AppCollections, 'notes'>('notes', { orderBy: ['updatedAt', 'desc'] });
  const notes = useMutations<AppCollections, 'notes'>('notes');
  const [editing, setEditing] = useState<string | null>(null);
  const add = () => {
    const id = newId();
    void notes.put(id, { title: 'Untitled', body: '', updatedAt: Date.now() });
    setEditing(id);
  };
  return (
    <section className="panel">
      <h2>
        Notes <span className="muted">conflicts resolved by you</span>
      </h2>
      <button type="button" onClick={add}>
        New note
      </button>
      <ul className="list">
        {list.map(({ id, data }) =>
          editing === id ? (
            <li key={id}>
              <NoteEditor id={id} onClose={() => setEditing(null)} />
            </li>
          ) : (
            <li key={id} data-testid="note" data-title={data.title}>
              <SyncDot collection="notes" id={id} />
              <button type="button" className="link" onClick={() => setEditing(id)}>
                <strong>{data.title}</strong>
                <span className="muted"> {data.body.slice(0, 60)}</span>
              </button>
            </li>
          ),
        )}
      </ul>
      {list.length === 0 && <p className="muted">No notes yet.</p>}
    </section>
  );
}
