// A server component that renders the client component holding the sync client and the hooks.
import { Todos } from './todos.jsx';

export default function Page() {
  return (
    <main>
      <h1>Todos</h1>
      <p data-testid="rendered-on-server">rendered by a server component</p>
      <Todos />
    </main>
  );
}
