-- The conformance kit's collection: its fields as columns. The kit picks short record ids
-- ('a', 'b') for every user, so an id is unique per owner: (user_id, id), as in a
-- multi-tenant table.
CREATE TABLE public.conformance_items (
  id text NOT NULL,
  user_id uuid NOT NULL DEFAULT auth.uid() REFERENCES auth.users (id),
  title text, done boolean, v integer, "by" text, i integer, n integer, tags jsonb,
  nested jsonb, secret text,
  PRIMARY KEY (user_id, id),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz
);
ALTER TABLE public.conformance_items ENABLE ROW LEVEL SECURITY;
CREATE POLICY "conformance_items: owners" ON public.conformance_items FOR ALL TO authenticated
  USING ((SELECT auth.uid()) = user_id) WITH CHECK ((SELECT auth.uid()) = user_id);

SELECT syncline_tables.install('public.conformance_items');
