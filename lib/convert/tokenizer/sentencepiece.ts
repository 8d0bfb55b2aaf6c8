// SentencePiece tokenizer.model files (a protobuf ModelProto): the pieces with their scores and
// types, which is all llama.cpp's converter reads from them (through SentencePieceProcessor's
// IdToPiece, GetScore, IsUnknown, IsControl, IsUnused and IsByte).
import { readFileSync, statSync } from 'node:fs';
import { ConvertError } from '../errors.js';
import { ProtobufError, ProtobufWriter, protobufFields, WIRE_BYTES, WIRE_FIXED32, WIRE_VARINT } from './protobuf.js';

/** sentencepiece_model.proto SentencePiece.Type (also llama.cpp's token types 1–6). */
export const PieceType = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;

export interface SentencePiece {
  piece: string;
  score: number;
  type: number;
}

/** Real models are a few MB; refuse anything far bigger before reading it. */
const MAX_MODEL_BYTES = 256 << 20;

function parsePiece(bytes: Uint8Array, file: string | undefined): SentencePiece {
  let piece = '';
  let score = 0;
  let type: number = PieceType.NORMAL;
  for (const f of protobufFields(bytes)) {
    if (f.field === 1 && f.wire === WIRE_BYTES) {
      try {
        piece = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(f.bytes);
      } catch {
        throw new ConvertError('ERR_CONVERT_TOKENIZER', 'A SentencePiece piece is not valid UTF-8', { file });
      }
    } else if (f.field === 2 && f.wire === WIRE_FIXED32) {
      score = new DataView((f.bytes as Uint8Array).buffer, (f.bytes as Uint8Array).byteOffset, 4).getFloat32(0, true);
    } else if (f.field === 3 && f.wire === WIRE_VARINT) {
      type = f.varint as number;
      if (type < 1 || type > 6) throw new ConvertError('ERR_CONVERT_TOKENIZER', `SentencePiece piece ${JSON.stringify(piece)} has unknown type ${type}`, { file });
    }
  }
  return { piece, score, type };
}

/** The pieces of a serialized SentencePiece ModelProto, in id order. */
export function parseSentencePieceModel(bytes: Uint8Array, file?: string): SentencePiece[] {
  const pieces: SentencePiece[] = [];
  try {
    for (const f of protobufFields(bytes)) {
      if (f.field === 1 && f.wire === WIRE_BYTES) pieces.push(parsePiece(f.bytes as Uint8Array, file));
    }
  } catch (e) {
    if (e instanceof ProtobufError) throw new ConvertError('ERR_CONVERT_TOKENIZER', `Not a SentencePiece model: ${e.message}`, { file });
    throw e;
  }
  if (pieces.length === 0) throw new ConvertError('ERR_CONVERT_TOKENIZER', 'SentencePiece model has no pieces', { file });
  return pieces;
}

export function readSentencePieceModel(path: string): SentencePiece[] {
  const size = statSync(path).size;
  if (size > MAX_MODEL_BYTES) throw new ConvertError('ERR_CONVERT_TOKENIZER', `${path} is ${size} bytes: too big for a SentencePiece model`, { file: path });
  return parseSentencePieceModel(readFileSync(path), path);
}

/**
 * A ModelProto holding just these pieces (and a BPE trainer spec), enough for any reader that
 * only needs the vocabulary, such as llama.cpp's converter and ours.
 */
export function encodeSentencePieceModel(pieces: readonly SentencePiece[]): Uint8Array {
  const model = new ProtobufWriter();
  for (const p of pieces) {
    const piece = new ProtobufWriter().bytes(1, p.piece).float(2, p.score);
    if (p.type !== PieceType.NORMAL) piece.varint(3, p.type);
    model.bytes(1, piece.finish());
  }
  // trainer_spec { model_type: BPE (2), vocab_size }
  model.bytes(2, new ProtobufWriter().varint(3, 2).varint(4, pieces.length).finish());
  return model.finish();
}
