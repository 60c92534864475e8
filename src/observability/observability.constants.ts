/** The process-wide pino instance shared by nestjs-pino and the access log. */
export const ROOT_LOGGER = Symbol('GATEWAY:ROOT_LOGGER');
