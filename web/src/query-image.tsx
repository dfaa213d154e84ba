import { useEffect, useId, useState, type ChangeEvent, type DragEvent, type FormEvent } from 'react';

interface QueryImageProps {
  onFile(file: File): void;
  onUrl(url: string): void;
  disabled?: boolean;
}

const firstFile = (list: FileList | null | undefined) => (list && list.length ? list[0]! : undefined);

const looksLikeUrl = (text: string) => /^https?:\/\/\S+$/i.test(text.trim());

/**
 * Every way to give the query photo: file picker, phone camera (`capture`), drag and drop,
 * paste from the clipboard (anywhere on the page), and an image address.
 */
export function QueryImage({ onFile, onUrl, disabled }: QueryImageProps) {
  const id = useId();
  const [over, setOver] = useState(false);
  const [url, setUrl] = useState('');

  // Paste: an image on the clipboard is searched at once; so is a copied image address, unless
  // the user is typing in a field (then the paste is theirs).
  useEffect(() => {
    const onPaste = (event: ClipboardEvent) => {
      const data = event.clipboardData;
      if (!data) return;
      const file = [...data.files].find((f) => f.type.startsWith('image/')) ?? firstFile(data.files);
      if (file) {
        event.preventDefault();
        onFile(file);
        return;
      }
      const target = event.target as HTMLElement | null;
      const typing = target && (target.tagName === 'INPUT' || target.tagName === 'TEXTAREA' || target.isContentEditable);
      const text = data.getData('text/plain');
      if (!typing && looksLikeUrl(text)) {
        event.preventDefault();
        setUrl(text.trim());
        onUrl(text.trim());
      }
    };
    document.addEventListener('paste', onPaste);
    return () => document.removeEventListener('paste', onPaste);
  }, [onFile, onUrl]);

  const picked = (event: ChangeEvent<HTMLInputElement>) => {
    const file = firstFile(event.target.files);
    event.target.value = ''; // choosing the same file again still searches
    if (file) onFile(file);
  };

  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    setOver(false);
    const file = firstFile(event.dataTransfer.files);
    if (file) return onFile(file);
    // An image dragged from another page arrives as its address.
    const link = event.dataTransfer.getData('text/uri-list').split('\n').find((l) => l && !l.startsWith('#')) ?? event.dataTransfer.getData('text/plain');
    if (link && looksLikeUrl(link)) {
      setUrl(link.trim());
      onUrl(link.trim());
    }
  };

  const submitUrl = (event: FormEvent) => {
    event.preventDefault();
    if (url.trim()) onUrl(url.trim());
  };

  return (
    <div className="query-image">
      <div
        className={`dropzone${over ? ' over' : ''}`}
        onDragEnter={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragOver={(e) => {
          e.preventDefault();
          e.dataTransfer.dropEffect = 'copy';
        }}
        onDragLeave={(e) => {
          if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setOver(false);
        }}
        onDrop={onDrop}
        data-testid="dropzone"
      >
        <p className="dropzone-text">
          <strong>Drop a photo here</strong> or paste one (<kbd>Ctrl</kbd>+<kbd>V</kbd>)
        </p>
        <div className="pick-buttons">
          <label className="button primary file-button">
            <input type="file" accept="image/*" className="visually-hidden" onChange={picked} disabled={disabled} data-testid="file-input" />
            Choose a photo
          </label>
          <label className="button file-button">
            <input type="file" accept="image/*" capture="environment" className="visually-hidden" onChange={picked} disabled={disabled} />
            Take a photo
          </label>
        </div>
      </div>
      <form className="url-form" onSubmit={submitUrl}>
        <label htmlFor={`${id}-url`}>…or the address of an image</label>
        <div className="inline">
          <input id={`${id}-url`} type="url" inputMode="url" placeholder="https://shop.example/photo.jpg" value={url} onChange={(e) => setUrl(e.target.value)} />
          <button type="submit" className="button" disabled={disabled || !url.trim()}>
            Search<span className="visually-hidden"> by this address</span>
          </button>
        </div>
      </form>
    </div>
  );
}
