import JSZip from 'jszip';

/** A zip archive of the given files, base64-encoded as an action's `exec.code`. */
export async function zipBase64(files: Record<string, string>): Promise<string> {
  const zip = new JSZip();
  for (const [name, content] of Object.entries(files)) zip.file(name, content);
  return zip.generateAsync({ type: 'base64' });
}
