/**
 * A small typed view of the untyped npm package `smpp` 0.5.1 (farhadi/node-smpp), used only by the
 * interop tests and the codec benchmark as an independent implementation. Only what we call is
 * declared. Facts from node_modules/smpp/lib/{smpp,pdu,defs}.js:
 * - a PDU is a bag: header fields, mandatory fields and TLVs (by node-smpp's TLV names) are all
 *   own properties; an unknown TLV is stored under its numeric tag;
 * - decoding runs "filters": short_message / message_payload become `{ message, udh? }`, time
 *   fields become Dates, some octet TLVs become small objects.
 */
declare module 'smpp' {
  namespace smpp {
    type Fields = Record<string, unknown>;

    interface PDU {
      command: string;
      command_length: number;
      command_id: number;
      command_status: number;
      sequence_number: number;
      [field: string]: unknown;
      isResponse(): boolean;
      response(options?: Fields): PDU;
      toBuffer(): Buffer;
    }

    interface PDUConstructor {
      new (command: string, options?: Fields): PDU;
      new (buffer: Buffer): PDU;
      /** Decodes one whole PDU; false when the buffer is shorter than 16 octets or its command_length. */
      fromBuffer(buffer: Buffer): PDU | false;
      maxLength: number;
    }

    interface Session {
      send(pdu: PDU, onResponse?: (resp: PDU) => void, onSent?: (pdu: PDU) => void): boolean;
      close(callback?: () => void): void;
      destroy(callback?: () => void): void;
      on(event: 'pdu', listener: (pdu: PDU) => void): this;
      on(event: 'error', listener: (error: Error) => void): this;
      on(event: 'close' | 'connect', listener: () => void): this;
      on(event: string, listener: (pdu: PDU) => void): this;
      /** One shortcut per command name, e.g. session.submit_sm(fields, onResponse). */
      [command: string]: unknown;
    }

    interface Server {
      listen(port: number, host: string, callback?: () => void): this;
      address(): { port: number } | string | null;
      close(callback?: (error?: Error) => void): this;
      on(event: 'session', listener: (session: Session) => void): this;
      on(event: 'error', listener: (error: Error) => void): this;
    }

    interface TlvType {
      read(buffer: Buffer, offset: number, length: number): unknown;
      size(value: unknown): number;
    }

    interface TlvDef {
      /** The tag number. */
      id: number;
      /** node-smpp's name for the TLV (which is also the property it uses on a PDU). */
      tag: string;
      multiple?: boolean;
      type: TlvType;
    }

    interface CommandDef {
      id: number;
      command: string;
      params?: Record<string, unknown>;
    }

    interface Encoding {
      match(value: string): boolean;
      encode(value: string): Buffer;
      decode(value: Buffer): string;
    }
  }

  const smpp: {
    PDU: smpp.PDUConstructor;
    createServer(listener?: (session: smpp.Session) => void): smpp.Server;
    connect(options: { host: string; port: number }, listener?: () => void): smpp.Session;
    commands: Record<string, smpp.CommandDef>;
    commandsById: Record<number, smpp.CommandDef>;
    tlvs: Record<string, smpp.TlvDef>;
    tlvsById: Record<number, smpp.TlvDef>;
    types: { tlv: Record<'int8' | 'int16' | 'int32' | 'cstring' | 'string' | 'buffer', smpp.TlvType> };
    encodings: Record<'ASCII' | 'LATIN1' | 'UCS2', smpp.Encoding>;
    errors: Record<string, number>;
  };
  export = smpp;
}
