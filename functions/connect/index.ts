/** `$connect`: join the default channel and `?channels=`; refuse with 400/403 otherwise. */
import { connect } from '../../shared/connect.js';

export const handler = connect;
