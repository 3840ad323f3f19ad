/** Route schemas of POST /api/v1/push (documentation and response serialization). */
import { Type } from '@sinclair/typebox';
import { PushResponse } from '../../../lib/wire/push.js';
import { ErrorBody } from '../errors.js';

export const pushRouteSchema = {
  headers: Type.Object({ authorization: Type.Optional(Type.String()) }),
  response: {
    200: PushResponse,
    400: ErrorBody,
    401: ErrorBody,
    403: ErrorBody,
    409: ErrorBody,
    413: ErrorBody,
    415: ErrorBody,
    503: ErrorBody,
  },
};
