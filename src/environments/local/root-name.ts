/** Trial roots are `<tmp>/skill-eval-<owner pid>-<trial>-…`: cleanup and reclaim find their owner by the name. */
export const LOCAL_ROOT_PREFIX = 'skill-eval-';
