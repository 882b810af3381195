import { useDeliveries, useSyncClient, useSyncStatus, useTransfers } from '@syncline/react';
import { ASSET_DELIVERY_KIND, type Delivery } from '@syncline/sync-core';
import { type ChangeEvent, useState } from 'react';

function fileName(delivery: Delivery): string {
  const payload = delivery.payload as { name?: unknown } | undefined;
  return typeof payload?.name === 'string' ? payload.name : (delivery.assetHash ?? '').slice(0, 8);
}

/** A received file: saved from the local asset store with a click. */
function ReceivedFile({ delivery }: { delivery: Delivery }) {
  const client = useSyncClient();
  const name = fileName(delivery);
  const save = async () => {
    const file = await client.assets.get(delivery.assetHash ?? '');
    if (file === undefined) return;
    const url = URL.createObjectURL(await new Response(file.stream()).blob());
    const link = Object.assign(document.createElement('a'), { href: url, download: name });
    link.click();
    URL.revokeObjectURL(url);
  };
  return (
    <li data-testid="received-file" data-name={name}>
      {name}{' '}
      <button type="button" onClick={() => void save()}>
        Save
      </button>
    </li>
  );
}

/** "Send a file to my other devices", with a progress bar per upload and download. */
export function SendFile() {
  const client = useSyncClient();
  const { userId } = useSyncStatus();
  const transfers = useTransfers();
  const received = useDeliveries(ASSET_DELIVERY_KIND);
  const [problem, setProblem] = useState<string | null>(null);
  if (userId === null) return null;
  const pick = (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0];
    event.target.value = '';
    if (file === undefined) return;
    setProblem(null);
    client.assets
      .send(file, { name: file.name, ...(file.type === '' ? {} : { mimeType: file.type }) })
      .catch((error: unknown) => setProblem(String(error)));
  };
  return (
    <section className="panel" data-testid="files">
      <h2>Send a file to my other devices</h2>
      <input type="file" aria-label="file to send" onChange={pick} />
      {problem !== null && <p className="problem">{problem}</p>}
      <ul className="list">
        {transfers.map((transfer) => {
          const percent =
            transfer.totalBytes === 0
              ? 0
              : Math.round((100 * transfer.bytesDone) / transfer.totalBytes);
          return (
            <li
              key={`${transfer.direction}:${transfer.id}`}
              data-testid="transfer"
              data-direction={transfer.direction}
              data-state={transfer.state}
            >
              {transfer.direction === 'upload' ? 'Sending' : 'Receiving'}{' '}
              {transfer.name ?? transfer.assetHash.slice(0, 8)}{' '}
              <progress value={transfer.bytesDone} max={transfer.totalBytes || 1} /> {percent}%{' '}
              <span className="muted">{transfer.state}</span>
            </li>
          );
        })}
      </ul>
      {received.length > 0 && (
        <>
          <h3>Received</h3>
          <ul className="list">
            {received.map((delivery) => (
              <ReceivedFile key={delivery.id} delivery={delivery} />
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
