// Files dragged over the conversation: whether they are over it now (for the overlay), and
// what was dropped. Only drags that carry files count: text or a link dragged inside the
// page is left to the browser.

import type { DragEvent } from 'react';
import { useRef, useState } from 'react';
import type { Dropped } from '../documents/dropped';
import { droppedFiles } from '../documents/dropped';

const carriesFiles = (event: DragEvent) => Array.from(event.dataTransfer.types).includes('Files');

export function useFileDrop(onDrop: (dropped: Dropped) => void) {
  const [over, setOver] = useState(false);
  const depth = useRef(0); // dragenter/dragleave fire for every child crossed
  const handlers = {
    onDragEnter: (e: DragEvent) => {
      if (!carriesFiles(e)) return;
      depth.current += 1;
      setOver(true);
    },
    onDragOver: (e: DragEvent) => {
      if (!carriesFiles(e)) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = 'copy';
    },
    onDragLeave: () => {
      depth.current = Math.max(0, depth.current - 1);
      if (depth.current === 0) setOver(false);
    },
    onDrop: (e: DragEvent) => {
      if (!carriesFiles(e)) return;
      e.preventDefault();
      depth.current = 0;
      setOver(false);
      void droppedFiles(e.dataTransfer).then(onDrop);
    },
  };
  return { over, handlers };
}
