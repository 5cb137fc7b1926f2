/** Media types of common formats, by the name users give in the `format` meta (lower case). */
const BY_FORMAT: Record<string, string> = {
  jpeg: 'image/jpeg',
  jpg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
  heic: 'image/heic',
  bmp: 'image/bmp',
  tiff: 'image/tiff',
  tif: 'image/tiff',
  ico: 'image/x-icon',
  svg: 'image/svg+xml',
  pdf: 'application/pdf',
  zip: 'application/zip',
  gzip: 'application/gzip',
  gz: 'application/gzip',
  json: 'application/json',
  xml: 'application/xml',
  bin: 'application/octet-stream',
  txt: 'text/plain',
  text: 'text/plain',
  csv: 'text/csv',
  html: 'text/html',
  md: 'text/markdown',
  markdown: 'text/markdown',
  mp3: 'audio/mpeg',
  wav: 'audio/wav',
  ogg: 'audio/ogg',
  flac: 'audio/flac',
  mp4: 'video/mp4',
  mov: 'video/quicktime',
  webm: 'video/webm',
  mkv: 'video/x-matroska',
}

/** File extensions for the media types above (for file names on the Directory engine). */
const EXTENSION: Record<string, string> = {
  'image/jpeg': 'jpg',
  'image/svg+xml': 'svg',
  'image/x-icon': 'ico',
  'application/gzip': 'gz',
  'application/octet-stream': 'bin',
  'text/plain': 'txt',
  'text/markdown': 'md',
  'audio/mpeg': 'mp3',
  'video/quicktime': 'mov',
  'video/x-matroska': 'mkv',
}

/** The media type of a `format` name (`'jpeg'` gives `'image/jpeg'`), if it is a known one. */
export function typeOfFormat(format: unknown): string | undefined {
  if (typeof format !== 'string') return undefined
  return Object.hasOwn(BY_FORMAT, format.toLowerCase()) ? BY_FORMAT[format.toLowerCase()] : undefined
}

/** A file extension for a media type (`'image/png'` gives `'png'`). */
export function extensionOfType(type: string | undefined): string | undefined {
  if (type === undefined) return undefined
  if (Object.hasOwn(EXTENSION, type)) return EXTENSION[type]
  const sub = /^[a-z]+\/([a-z0-9-]+)$/.exec(type)?.[1]
  return sub
}

/** Bytes needed by `sniff`. */
export const SNIFF_BYTES = 16

const ascii = (b: Uint8Array, at: number, text: string): boolean => {
  if (b.length < at + text.length) return false
  for (let i = 0; i < text.length; i++) if (b[at + i] !== text.charCodeAt(i)) return false
  return true
}

/** The media type of common formats recognised by their first bytes, else undefined. */
export function sniff(b: Uint8Array): string | undefined {
  if (ascii(b, 0, '\x89PNG\r\n\x1a\n')) return 'image/png'
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg'
  if (ascii(b, 0, 'GIF87a') || ascii(b, 0, 'GIF89a')) return 'image/gif'
  if (ascii(b, 0, 'RIFF') && ascii(b, 8, 'WEBP')) return 'image/webp'
  if (ascii(b, 0, 'RIFF') && ascii(b, 8, 'WAVE')) return 'audio/wav'
  if (ascii(b, 4, 'ftypavif')) return 'image/avif'
  if (ascii(b, 4, 'ftypheic')) return 'image/heic'
  if (ascii(b, 4, 'ftypqt')) return 'video/quicktime'
  if (ascii(b, 4, 'ftyp')) return 'video/mp4'
  if (ascii(b, 0, '%PDF-')) return 'application/pdf'
  if (ascii(b, 0, 'PK\x03\x04')) return 'application/zip'
  if (b[0] === 0x1f && b[1] === 0x8b) return 'application/gzip'
  if (ascii(b, 0, 'II*\0') || ascii(b, 0, 'MM\0*')) return 'image/tiff'
  if (ascii(b, 0, 'OggS')) return 'audio/ogg'
  if (ascii(b, 0, 'fLaC')) return 'audio/flac'
  if (ascii(b, 0, 'ID3')) return 'audio/mpeg'
  if (b[0] === 0x1a && b[1] === 0x45 && b[2] === 0xdf && b[3] === 0xa3) return 'video/webm'
  return undefined
}
