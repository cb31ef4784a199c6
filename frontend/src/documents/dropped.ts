// Files out of a drop: a dropped folder arrives as one empty File, so folders are walked through
// the File System entries API (what Chromium and Electron give a drop).

export interface Dropped {
  files: File[];
  /** Whether a folder was among the drop: its files of other types are then skipped. */
  fromFolder: boolean;
}

export async function droppedFiles(data: DataTransfer): Promise<Dropped> {
  const entries = Array.from(data.items ?? [])
    .map((item) => (item.kind === 'file' ? item.webkitGetAsEntry?.() : null))
    .filter((e): e is FileSystemEntry => !!e);
  if (entries.length === 0 || entries.every((e) => e.isFile)) {
    return { files: Array.from(data.files), fromFolder: false };
  }
  const files: File[] = [];
  for (const entry of entries) files.push(...(await walk(entry)));
  return { files, fromFolder: true };
}

async function walk(entry: FileSystemEntry): Promise<File[]> {
  if (entry.isFile) {
    return [await new Promise<File>((ok, fail) => (entry as FileSystemFileEntry).file(ok, fail))];
  }
  if (!entry.isDirectory || entry.name.startsWith('.')) return [];
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  const children: FileSystemEntry[] = [];
  // readEntries hands out a folder's entries in batches; an empty batch means the end.
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((ok, fail) => reader.readEntries(ok, fail));
    if (batch.length === 0) break;
    children.push(...batch);
  }
  const out: File[] = [];
  for (const child of children) out.push(...(await walk(child)));
  return out;
}
