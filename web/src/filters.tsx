import { useEffect, useId, useState } from 'react';
import type { Facets, ProductFilter } from '../../client/index.js';
import { api } from './api.js';

export interface FilterValues {
  category: string;
  colour: string;
  brand: string;
  minPrice: string;
  maxPrice: string;
  keyword: string;
}

export const NO_FILTERS: FilterValues = { category: '', colour: '', brand: '', minPrice: '', maxPrice: '', keyword: '' };

/** The form's strings → the API's ProductFilter (undefined when nothing is set). */
export function toProductFilter(values: FilterValues): ProductFilter | undefined {
  const filter: ProductFilter = {};
  if (values.category) filter.category = [values.category];
  if (values.colour) filter.colour = [values.colour];
  if (values.brand) filter.brand = [values.brand];
  const min = parseFloat(values.minPrice);
  const max = parseFloat(values.maxPrice);
  if (Number.isFinite(min)) filter.minPrice = min;
  if (Number.isFinite(max)) filter.maxPrice = max;
  if (values.keyword.trim()) filter.keyword = values.keyword.trim();
  return Object.keys(filter).length ? filter : undefined;
}

export const activeFilterCount = (values: FilterValues) => Object.keys(toProductFilter(values) ?? {}).length;

let facetsPromise: Promise<Facets> | undefined;

/** Category, colour and brand values for the menus, read once from the catalog. */
export function useFacets(): Facets | null {
  const [facets, setFacets] = useState<Facets | null>(null);
  useEffect(() => {
    let live = true;
    facetsPromise ??= api.facetValues(500).catch((error) => {
      facetsPromise = undefined;
      throw error;
    });
    facetsPromise.then((f) => live && setFacets(f)).catch(() => live && setFacets({ category: [], colour: [], brand: [] }));
    return () => {
      live = false;
    };
  }, []);
  return facets;
}

interface FiltersProps {
  values: FilterValues;
  onChange(values: FilterValues): void;
}

/** The filter fields (category, colour, brand, price range, keyword), inside the caller's form. */
export function Filters({ values, onChange }: FiltersProps) {
  const id = useId();
  const facets = useFacets();
  const set = (key: keyof FilterValues) => (event: { target: { value: string } }) => onChange({ ...values, [key]: event.target.value });
  const menu = (key: 'category' | 'colour' | 'brand', label: string) => {
    const options = facets?.[key] ?? [];
    const fieldId = `${id}-${key}`;
    return (
      <div className="field">
        <label htmlFor={fieldId}>{label}</label>
        {options.length || !facets ? (
          <select id={fieldId} value={values[key]} onChange={set(key)}>
            <option value="">Any</option>
            {options.map((o) => (
              <option key={o} value={o}>
                {o}
              </option>
            ))}
            {values[key] && !options.includes(values[key]) && <option value={values[key]}>{values[key]}</option>}
          </select>
        ) : (
          <input id={fieldId} value={values[key]} onChange={set(key)} placeholder="Any" />
        )}
      </div>
    );
  };
  return (
    <fieldset className="filters">
      <legend>Filters</legend>
      {menu('category', 'Category')}
      {menu('colour', 'Colour')}
      {menu('brand', 'Brand')}
      <div className="field price-range" role="group" aria-labelledby={`${id}-price`}>
        <span id={`${id}-price`} className="label">
          Price
        </span>
        <label className="visually-hidden" htmlFor={`${id}-min`}>
          Minimum price
        </label>
        <input id={`${id}-min`} type="number" inputMode="decimal" min="0" step="any" placeholder="min" value={values.minPrice} onChange={set('minPrice')} />
        <span aria-hidden="true">–</span>
        <label className="visually-hidden" htmlFor={`${id}-max`}>
          Maximum price
        </label>
        <input id={`${id}-max`} type="number" inputMode="decimal" min="0" step="any" placeholder="max" value={values.maxPrice} onChange={set('maxPrice')} />
      </div>
      <div className="field">
        <label htmlFor={`${id}-keyword`}>Keyword in title</label>
        <input id={`${id}-keyword`} type="search" value={values.keyword} onChange={set('keyword')} placeholder="e.g. striped" />
      </div>
    </fieldset>
  );
}
