// One name per model on every screen (Models, the chat's picker, Settings, first run): the
// backend's `name` (library/names.py: the catalogue's name, else the file name), and the file
// name without .gguf for anything the backend did not name.

export function fileStem(id: string): string {
  return id.replace(/\.gguf$/i, '');
}

export function modelName(model: { id: string; name?: string | null }): string {
  return model.name || fileStem(model.id);
}

/** The name of the model with this id, from a list of models (the file name if not in it). */
export function nameOf(id: string, models: readonly { id: string; name?: string | null }[]): string {
  const found = models.find((m) => m.id === id);
  return found ? modelName(found) : fileStem(id);
}
